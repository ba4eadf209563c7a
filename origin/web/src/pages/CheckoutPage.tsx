// Step 3 of signing up: the chosen plan and its price, the card, and paying the first month.
// A card that asks for 3-D Secure goes to its bank's page, which comes back to the account.
import { type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api } from '../api';
import { CardFieldset } from '../billing/CardFieldset';
import { useCardPayment } from '../billing/useCardPayment';
import { Wordmark } from '../components/TopBar';
import { keys, usePlans } from '../queries';
import { Link, paths, useGo } from '../router';

export function CheckoutPage({ planId }: { planId: string }) {
  const plans = usePlans();
  const queries = useQueryClient();
  const go = useGo();
  const payment = useCardPayment('checkout');
  const plan = plans.data?.plans.find((p) => p.id === planId);

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!plan) return;
    const paid = await payment.submit((pm) => api.subscribe(plan.id, pm));
    if (paid) {
      await queries.invalidateQueries({ queryKey: keys.billing });
      go(paths.profiles(), { replace: true });
    }
  };

  return (
    <div className="auth">
      <div className="auth__backdrop" aria-hidden="true" />
      <header className="auth__header">
        <Link to={paths.browse()} aria-label="Marquee home" className="topbar__home">
          <Wordmark />
        </Link>
      </header>
      <main className="auth__main" id="main">
        <form className="auth__card" onSubmit={onSubmit} noValidate data-testid="checkout-form">
          <p className="plans__step">Step 3 of 3</p>
          <h1 className="auth__title">Set up your card</h1>
          {plans.isError ? (
            <p className="auth__alert" role="alert">
              The plans could not be loaded. Please try again shortly.
            </p>
          ) : null}
          {plans.data && !plan ? (
            <p className="auth__alert" role="alert">
              There is no plan “{planId}”. <Link to={paths.plans()}>Choose one</Link>.
            </p>
          ) : null}
          {plan ? (
            <div className="checkout__plan" data-testid="checkout-plan">
              <span>
                <strong>{plan.name}</strong> · {plan.top_resolution} · {plan.streams} {plan.streams === 1 ? 'screen' : 'screens'}
              </span>
              <span>
                {plan.price.display} / month <Link to={paths.plans()}>Change</Link>
              </span>
            </div>
          ) : null}
          {payment.alert ? (
            <p className="auth__alert" role="alert" data-testid="checkout-error">
              {payment.alert}
            </p>
          ) : null}
          <CardFieldset idPrefix="checkout" value={payment.card} errors={payment.errors} onChange={payment.setCard} />
          <p className="field__hint">You pay today, then every 30 days until you cancel. Cancel at any time on your account page.</p>
          <button className="button button--brand auth__submit" type="submit" disabled={payment.busy || !plan} data-testid="checkout-pay">
            {payment.busy ? 'Paying…' : plan ? `Start membership · ${plan.price.display}` : 'Start membership'}
          </button>
        </form>
      </main>
    </div>
  );
}
