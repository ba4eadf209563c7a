// Step 1 of signing up, and where a viewer without a plan is sent: the plans side by side,
// priced in the viewer's currency, one chosen with the keyboard or a tap.
import { useState, type FormEvent } from 'react';
import type { PlanOffer } from '../api';
import { StatusMessage } from '../components/StatusMessage';
import { Wordmark } from '../components/TopBar';
import { useBilling, usePlans } from '../queries';
import { Link, paths, useGo } from '../router';
import { useSession } from '../session';

export function PlansPage() {
  const { state } = useSession();
  const signedIn = state.status === 'signed-in';
  const plans = usePlans();
  const billing = useBilling(signedIn);
  const go = useGo();
  const [chosen, setChosen] = useState('standard');
  const current = signedIn ? billing.data?.subscription : undefined;
  const live = current && current.status !== 'cancelled' && current.status !== 'expired';

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    go(signedIn ? paths.checkout(chosen) : paths.signUp(paths.checkout(chosen)));
  };

  if (plans.isError) return <StatusMessage title="Plans are unavailable" message="Please try again shortly." retry />;
  return (
    <div className="auth plans" data-testid="plans-page">
      <div className="auth__backdrop" aria-hidden="true" />
      <header className="auth__header">
        <Link to={paths.browse()} aria-label="Marquee home" className="topbar__home">
          <Wordmark />
        </Link>
      </header>
      <main className="auth__main" id="main">
        <form className="plans__card" onSubmit={onSubmit}>
          {signedIn ? null : <p className="plans__step">Step 1 of 3</p>}
          <h1 className="auth__title">Choose the plan that’s right for you</h1>
          {live ? (
            <p className="auth__alert" role="status" data-testid="plans-current">
              You are on {current.plan.name}. <Link to={paths.account()}>Change it on your account page</Link>.
            </p>
          ) : null}
          <fieldset className="plans__list">
            <legend className="visually-hidden">Plans</legend>
            {(plans.data?.plans ?? []).map((plan) => (
              <PlanChoice key={plan.id} plan={plan} checked={chosen === plan.id} onChoose={setChosen} />
            ))}
          </fieldset>
          {plans.data?.tax_included ? (
            <p className="field__hint">Prices include tax.</p>
          ) : (
            <p className="field__hint">Tax, where it applies, is added at checkout.</p>
          )}
          <button className="button button--brand auth__submit" type="submit" disabled={!plans.data || Boolean(live)} data-testid="plans-continue">
            Continue
          </button>
          {signedIn ? null : (
            <p className="auth__switch">
              Already a member? <Link to={paths.signIn()}>Sign in</Link>
            </p>
          )}
        </form>
      </main>
    </div>
  );
}

function PlanChoice({ plan, checked, onChoose }: { plan: PlanOffer; checked: boolean; onChoose: (id: string) => void }) {
  const id = `plan-${plan.id}`;
  return (
    <label className={`plan${checked ? ' plan--chosen' : ''}`} htmlFor={id} data-testid={`plan-${plan.id}`}>
      <input type="radio" name="plan" id={id} value={plan.id} checked={checked} onChange={() => onChoose(plan.id)} />
      <span className="plan__name">{plan.name}</span>
      <span className="plan__price">
        {plan.price.display}
        <span className="plan__per"> / month</span>
      </span>
      <span className="plan__facts">
        {plan.top_resolution} · {plan.streams} {plan.streams === 1 ? 'screen' : 'screens'} at once · {plan.profiles} profiles
      </span>
    </label>
  );
}
