// A horizontally scrolling row of poster cards with arrow buttons and arrow-key navigation.
import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import type { Card } from '../api';
import { Link } from '../router';
import { TitleCard } from './TitleCard';

interface TitleRowProps {
  heading: string;
  cards: Card[];
  eager?: boolean;
  /** "Continue watching": cards play on click and can leave the row. */
  resume?: boolean;
  rowId?: string;
  /** Where the heading leads: the row's full page (a genre's). */
  href?: string;
  /** A chart (Top 10): each card shows its place in big numerals. */
  ranked?: boolean;
}

export function TitleRow({ heading, cards, eager = false, resume = false, rowId, href, ranked = false }: TitleRowProps) {
  const scroller = useRef<HTMLUListElement>(null);
  const headingId = useId();
  // Arrows show only where there is more to scroll to.
  const [edges, setEdges] = useState({ start: true, end: true });
  const measure = useCallback(() => {
    const list = scroller.current;
    if (!list) return;
    const start = list.scrollLeft <= 4;
    const end = list.scrollLeft + list.clientWidth >= list.scrollWidth - 4;
    setEdges((old) => (old.start === start && old.end === end ? old : { start, end }));
  }, []);
  useEffect(() => {
    measure();
    window.addEventListener('resize', measure);
    return () => window.removeEventListener('resize', measure);
  }, [measure, cards.length]);

  const scrollByPage = (direction: 1 | -1) => {
    const list = scroller.current;
    if (!list) return;
    list.scrollBy({ left: direction * list.clientWidth * 0.85, behavior: 'smooth' });
  };

  // Left/right move focus between cards, as a TV remote or keyboard user expects.
  const onKeyDown = (event: KeyboardEvent<HTMLUListElement>) => {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const links = Array.from(event.currentTarget.querySelectorAll<HTMLAnchorElement>('a.card__link'));
    const index = links.findIndex((link) => link === document.activeElement);
    if (index < 0) return;
    const next = links[index + (event.key === 'ArrowRight' ? 1 : -1)];
    if (next) {
      event.preventDefault();
      next.focus();
    }
  };

  return (
    <section className="row" aria-labelledby={headingId} data-testid="title-row" data-row-id={rowId}>
      <h2 className="row__heading" id={headingId}>
        {href ? (
          <Link to={href}>
            {heading}
            <span className="row__more" aria-hidden="true">
              Explore all ›
            </span>
          </Link>
        ) : (
          heading
        )}
      </h2>
      <div className="row__frame">
        <button
          type="button"
          className="row__arrow row__arrow--left"
          hidden={edges.start}
          aria-label={`Scroll ${heading} left`}
          tabIndex={-1}
          onClick={() => scrollByPage(-1)}
        >
          <span aria-hidden="true">‹</span>
        </button>
        <ul className="row__list" ref={scroller} onKeyDown={onKeyDown} onScroll={measure}>
          {cards.map((card, i) => (
            <li className={`row__item${ranked ? ' row__item--ranked' : ''}`} key={card.title.id}>
              <TitleCard card={card} eager={eager} resume={resume} rank={ranked ? i + 1 : undefined} />
            </li>
          ))}
        </ul>
        <button
          type="button"
          className="row__arrow row__arrow--right"
          hidden={edges.end}
          aria-label={`Scroll ${heading} right`}
          tabIndex={-1}
          onClick={() => scrollByPage(1)}
        >
          <span aria-hidden="true">›</span>
        </button>
      </div>
    </section>
  );
}
