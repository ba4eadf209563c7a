// The top bar's search: instant results under the box as one types (a combobox, so screen
// readers announce the options and arrows move through them), Enter for every result.
// "/" anywhere focuses it. On the results page the box drives the page itself instead.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { useLocation, useSearchParams } from 'react-router';
import { useSearchPreview } from '../queries';
import { paths, useGo } from '../router';
import { withWords } from '../search/params';
import { Poster } from './Poster';

/** Typing pauses this long before the results follow. */
const SETTLE_MS = 150;

function useSettled(value: string): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = window.setTimeout(() => setSettled(value), SETTLE_MS);
    return () => window.clearTimeout(t);
  }, [value]);
  return settled;
}

/** Whether a key press is someone typing into a field (so "/" is a character, not a shortcut). */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

export function SearchBox() {
  const location = useLocation();
  const onResults = location.pathname === '/search';
  const [params, setParams] = useSearchParams();
  const [text, setText] = useState(onResults ? (params.get('q') ?? '') : '');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const input = useRef<HTMLInputElement>(null);
  const listId = useId();
  const go = useGo();
  const settled = useSettled(text);
  const preview = useSearchPreview(onResults ? '' : settled);

  // "/" focuses the search from anywhere.
  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
      event.preventDefault();
      input.current?.focus();
      input.current?.select();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // The box shows the results page's words when the page changes under it (Back, a link).
  const pageWords = onResults ? (params.get('q') ?? '') : null;
  const [typed, setTyped] = useState(false);
  useEffect(() => {
    if (pageWords !== null && !typed) setText(pageWords);
  }, [pageWords, typed]);

  // On the results page the words are the page's: what is typed updates it in place.
  useEffect(() => {
    if (!onResults || !typed) return;
    setTyped(false);
    if ((params.get('q') ?? '') === settled.trim()) return;
    setParams(withWords(params, settled.trim()), { replace: true });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- runs when the typing settles
  }, [settled]);

  const titles = preview.data?.titles ?? [];
  const showList = open && !onResults && text.trim() !== '' && (titles.length > 0 || !preview.isFetching);
  const options = titles.length + 1; // the titles, then "all results"
  const optionId = (i: number) => `${listId}-${i}`;

  const seeAll = () => {
    setOpen(false);
    // On the results page the filters and sort in use stay; elsewhere a search starts afresh.
    const base = onResults ? params : new URLSearchParams();
    go(paths.search(withWords(base, text.trim()).toString()));
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (!showList) return;
      event.preventDefault();
      // -1 is the box itself; the options follow, and the ends wrap round through it.
      if (event.key === 'ArrowDown') setActive((i) => (i + 1 >= options ? -1 : i + 1));
      else setActive((i) => (i - 1 < -1 ? options - 1 : i - 1));
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const chosen = active >= 0 && active < titles.length ? titles[active] : undefined;
      if (chosen) {
        setOpen(false);
        go(paths.title(chosen.id));
      } else if (text.trim() !== '') {
        seeAll();
      }
    } else if (event.key === 'Escape') {
      setActive(-1);
      if (showList) setOpen(false);
      else setText('');
    }
  };

  return (
    <div className="search" role="search">
      <label className="visually-hidden" htmlFor={`${listId}-input`}>
        Search titles, people and genres
      </label>
      <input
        id={`${listId}-input`}
        ref={input}
        className="search__input"
        type="search"
        placeholder="Search"
        autoComplete="off"
        spellCheck={false}
        enterKeyHint="search"
        role="combobox"
        aria-expanded={showList}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={showList && active >= 0 ? optionId(active) : undefined}
        aria-keyshortcuts="/"
        value={text}
        maxLength={200}
        data-testid="search-input"
        onChange={(e) => {
          setText(e.target.value);
          setTyped(true);
          setOpen(true);
          setActive(-1);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => window.setTimeout(() => setOpen(false), 150)}
        onKeyDown={onKeyDown}
      />
      {showList ? (
        <ul className="search__list" id={listId} role="listbox" aria-label="Instant results" data-testid="search-preview">
          {titles.map((t, i) => (
            <li
              key={t.id}
              id={optionId(i)}
              role="option"
              aria-selected={i === active}
              className={`search__option${i === active ? ' search__option--active' : ''}`}
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => {
                setOpen(false);
                go(paths.title(t.id));
              }}
              data-testid="search-option"
              data-title-id={t.id}
            >
              <Poster title={t} decorative className="search__poster" />
              <span className="search__name">{t.name}</span>
              <span className="search__facts">
                {t.year} · {t.maturity_rating}
              </span>
            </li>
          ))}
          {titles.length === 0 ? (
            <li className="search__empty" role="presentation">
              No titles match “{text.trim()}”
            </li>
          ) : null}
          <li
            id={optionId(titles.length)}
            role="option"
            aria-selected={active === titles.length}
            className={`search__option search__option--all${active === titles.length ? ' search__option--active' : ''}`}
            onMouseDown={(e) => e.preventDefault()}
            onClick={seeAll}
          >
            See all results for “{text.trim()}”
          </li>
        </ul>
      ) : null}
    </div>
  );
}
