// "Remind me" on a coming-soon title: the profile hears (bell and email) when it is out.
import { useReminderToggle } from '../queries';

export function RemindButton({ titleId, name, reminded }: { titleId: string; name: string; reminded: boolean }) {
  const toggle = useReminderToggle(titleId);
  const on = toggle.isPending ? toggle.variables : reminded;
  return (
    <button
      type="button"
      className={`button ${on ? 'button--secondary' : 'button--primary'}`}
      aria-pressed={on}
      aria-label={`Remind me when ${name} is out`}
      onClick={() => toggle.mutate(!on)}
      disabled={toggle.isPending}
      data-testid="remind-me"
    >
      <span aria-hidden="true">{on ? '✓' : '🔔'}</span>
      <span>{on ? 'Reminder set' : 'Remind me'}</span>
    </button>
  );
}
