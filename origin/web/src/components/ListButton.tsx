// Add to / remove from My List. `listed` comes from what the screen knows (a title page's
// `mine`, My List itself); elsewhere the button reads My List from the shared cache.
import { useListToggle, useMyList } from '../queries';

interface ListButtonProps {
  titleId: string;
  name: string;
  listed?: boolean;
  compact?: boolean;
}

export function ListButton({ titleId, name, listed, compact = false }: ListButtonProps) {
  const list = useMyList();
  const toggle = useListToggle(titleId);
  const known = listed ?? list.data?.some((t) => t.id === titleId);
  const on = toggle.isPending ? toggle.variables : known === true;
  const label = on ? `Remove ${name} from My List` : `Add ${name} to My List`;
  return (
    <button
      type="button"
      className={compact ? 'icon-button' : 'button button--secondary'}
      aria-label={label}
      data-on={on}
      onClick={() => toggle.mutate(!on)}
      disabled={toggle.isPending || (known === undefined && list.isPending)}
      data-testid="list-toggle"
    >
      <span aria-hidden="true">{on ? '✓' : '+'}</span>
      {compact ? null : <span>{on ? 'In My List' : 'My List'}</span>}
    </button>
  );
}
