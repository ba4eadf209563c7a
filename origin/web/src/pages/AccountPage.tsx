// The account page: the plan and what it allows, the next bill, a failed payment and how to
// fix it, changing or cancelling the plan, the card, and every invoice with its receipt.
import { useState, type FormEvent, type ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { api, messageOf, type BillingOverview, type SubscriptionView } from '../api';
import { CardFieldset } from '../billing/CardFieldset';
import { useCardPayment } from '../billing/useCardPayment';
import { StatusMessage } from '../components/StatusMessage';
import { formatDate } from '../format';
import { keys, useBilling, useDevices, useInvoices, usePlans } from '../queries';
import { Link, paths, useGo } from '../router';
import { useSession } from '../session';

const STATUS: Record<string, string> = {
  trialing: 'Free trial',
  active: 'Active',
  past_due: 'Payment failed',
  cancelled: 'Cancelled',
  expired: 'Expired',
};

const RETURNED: Record<string, string> = {
  paid: 'Payment confirmed. Welcome to Marquee!',
  declined: 'Your bank did not confirm the payment. Try again or use another card.',
  returned: 'Back from your bank: your payment is being confirmed.',
};

const day = (secs: number) => formatDate(secs * 1000);

export function AccountPage() {
  const billing = useBilling();
  const [query] = useSearchParams();
  const returned = RETURNED[query.get('payment') ?? ''];
  if (billing.isPending) return <main id="main" className="page account-page" aria-busy="true" />;
  if (billing.isError) return <StatusMessage title="Your account is unavailable" message={messageOf(billing.error)} retry />;
  const b = billing.data;
  const sub = b.subscription;
  return (
    <main id="main" className="page account-page" data-testid="account-page">
      <h1 className="account-page__title">Account</h1>
      {returned ? (
        <p className="account-page__notice" role="status" data-testid="payment-returned">
          {returned}
        </p>
      ) : null}
      <Section title="Membership">
        {b.last_charge?.status === 'failed' && b.last_charge.decline_code !== 'superseded' ? (
          <p className="account-page__alert" role="alert" data-testid="last-payment-failed">
            Your last payment ({b.last_charge.amount.display}) did not go through: {b.last_charge.message}
          </p>
        ) : null}
        {sub ? <Membership sub={sub} entitled={b.entitled} /> : <NoPlan />}
      </Section>
      {sub && sub.status !== 'cancelled' && sub.status !== 'expired' ? <ChangePlan sub={sub} /> : null}
      {b.payment_method || sub ? <PaymentMethod billing={b} /> : null}
      <Invoices />
      <DevicesSection />
    </main>
  );
}

/** A button's action: busy while it runs, its failure as a sentence to show. */
function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  const id = `section-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <section className="account-page__section" aria-labelledby={id}>
      <h2 id={id} className="account-page__heading">
        {title}
      </h2>
      {children}
    </section>
  );
}

function NoPlan() {
  return (
    <p data-testid="no-plan">
      You have no plan yet, so you can browse but not play. <Link to={paths.plans()}>Choose a plan</Link>
    </p>
  );
}

function Membership({ sub, entitled }: { sub: SubscriptionView; entitled: boolean }) {
  const queries = useQueryClient();
  const { busy, error, run } = useAction();
  const act = (change: () => Promise<BillingOverview>) =>
    run(async () => {
      queries.setQueryData(keys.billing, await change());
    });
  const ended = sub.status === 'cancelled' || sub.status === 'expired';
  return (
    <div className="membership">
      <p className="membership__plan">
        <strong data-testid="membership-plan">{sub.plan.name}</strong>{' '}
        <span className={`badge badge--${sub.status}`} data-testid="membership-status">
          {STATUS[sub.status] ?? sub.status}
        </span>
      </p>
      <p className="membership__facts">
        {sub.plan.top_resolution} · {sub.plan.streams} {sub.plan.streams === 1 ? 'screen' : 'screens'} at once ·{' '}
        {sub.plan.profiles} profiles
      </p>
      {sub.status === 'past_due' ? (
        <p className="account-page__alert" role="alert" data-testid="past-due">
          We could not take your payment due on {day(sub.period_end)}.{' '}
          {entitled ? 'You can keep watching while you update your card below.' : 'Update your card below to watch again.'}
        </p>
      ) : null}
      {sub.next_bill ? (
        <p data-testid="next-bill">
          Your next bill is {sub.next_bill.amount.display} on {day(sub.next_bill.at)}
          {sub.next_plan ? `, when you move to ${sub.next_plan.name}` : ''}.
        </p>
      ) : null}
      {sub.cancel_at_period_end && !ended ? (
        <p data-testid="cancel-scheduled">Your membership ends on {day(sub.period_end)}. You can watch until then.</p>
      ) : null}
      {ended ? (
        <p>
          Your membership ended{sub.ended_at ? ` on ${day(sub.ended_at)}` : ''}. <Link to={paths.plans()}>Choose a plan</Link> to
          watch again.
        </p>
      ) : null}
      {error ? (
        <p className="account-page__alert" role="alert">
          {error}
        </p>
      ) : null}
      {!ended ? (
        <div className="membership__actions">
          {sub.cancel_at_period_end ? (
            <button type="button" className="button button--primary" disabled={busy} onClick={() => void act(api.resumeSubscription)} data-testid="resume">
              Keep my membership
            </button>
          ) : (
            <button type="button" className="button button--secondary" disabled={busy} onClick={() => void act(api.cancelSubscription)} data-testid="cancel">
              Cancel membership
            </button>
          )}
        </div>
      ) : null}
    </div>
  );
}

function ChangePlan({ sub }: { sub: SubscriptionView }) {
  const plans = usePlans();
  const queries = useQueryClient();
  const [chosen, setChosen] = useState(sub.next_plan?.id ?? sub.plan.id);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const after = await api.changePlan(chosen);
      const challenge = after.last_charge?.status === 'requires_action' ? after.last_charge.challenge_url : null;
      if (challenge) {
        // The card asks its holder to confirm the upgrade first; the bank's page comes back here.
        window.location.assign(challenge);
        return;
      }
      queries.setQueryData(keys.billing, after);
      void queries.invalidateQueries({ queryKey: keys.invoices });
      const now = after.subscription?.plan.id === chosen;
      setMessage({ error: false, text: now ? 'Your plan has changed.' : 'Your plan changes at your next bill.' });
    } catch (e) {
      setMessage({ error: true, text: messageOf(e) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title="Change plan">
      <form className="change-plan" onSubmit={onSubmit}>
        <fieldset className="plans__list">
          <legend className="visually-hidden">Plans</legend>
          {(plans.data?.plans ?? []).map((p) => (
            <label key={p.id} className={`plan${chosen === p.id ? ' plan--chosen' : ''}`} htmlFor={`change-${p.id}`}>
              <input type="radio" name="plan" id={`change-${p.id}`} checked={chosen === p.id} onChange={() => setChosen(p.id)} />
              <span className="plan__name">
                {p.name}
                {p.id === sub.plan.id ? ' (current)' : ''}
              </span>
              <span className="plan__price">
                {p.price.display}
                <span className="plan__per"> / month</span>
              </span>
              <span className="plan__facts">
                {p.top_resolution} · {p.streams} {p.streams === 1 ? 'screen' : 'screens'}
              </span>
            </label>
          ))}
        </fieldset>
        <p className="field__hint">A dearer plan starts now: you pay the difference for the rest of this period. A cheaper one starts at your next bill.</p>
        {message ? (
          <p className={message.error ? 'account-page__alert' : 'account-page__notice'} role={message.error ? 'alert' : 'status'}>
            {message.text}
          </p>
        ) : null}
        <button type="submit" className="button button--secondary" disabled={busy || chosen === (sub.next_plan?.id ?? sub.plan.id)} data-testid="change-plan">
          Change plan
        </button>
      </form>
    </Section>
  );
}

function PaymentMethod({ billing }: { billing: BillingOverview }) {
  const queries = useQueryClient();
  const [open, setOpen] = useState(billing.subscription?.status === 'past_due');
  const payment = useCardPayment('replace-card');
  const [saved, setSaved] = useState(false);
  const card = billing.payment_method;
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setSaved(false);
    const after = await payment.submit((pm) => api.updatePaymentMethod(pm));
    if (after) {
      queries.setQueryData(keys.billing, after);
      void queries.invalidateQueries({ queryKey: keys.invoices });
      setSaved(true);
      setOpen(false);
    }
  };
  return (
    <Section title="Payment method">
      {card ? (
        <p data-testid="card-on-file">
          <span className="card-brand">{card.brand.toUpperCase()}</span> •••• {card.last4} · expires {String(card.exp_month).padStart(2, '0')}/
          {card.exp_year}
        </p>
      ) : (
        <p>No card on file.</p>
      )}
      {saved ? (
        <p className="account-page__notice" role="status" data-testid="card-saved">
          Your new card is saved.
        </p>
      ) : null}
      {open ? (
        <form className="replace-card" onSubmit={onSubmit} noValidate data-testid="replace-card-form">
          {payment.alert ? (
            <p className="account-page__alert" role="alert" data-testid="replace-card-error">
              {payment.alert}
            </p>
          ) : null}
          <CardFieldset idPrefix="replace-card" value={payment.card} errors={payment.errors} onChange={payment.setCard} />
          <button type="submit" className="button button--primary" disabled={payment.busy} data-testid="replace-card-save">
            {billing.subscription?.status === 'past_due' ? 'Save and pay now' : 'Save card'}
          </button>
        </form>
      ) : (
        <button type="button" className="button button--secondary" onClick={() => setOpen(true)} data-testid="replace-card">
          Replace card
        </button>
      )}
    </Section>
  );
}

function Invoices() {
  const invoices = useInvoices();
  const list = invoices.data?.invoices ?? [];
  return (
    <Section title="Invoices">
      {invoices.isError ? (
        <p className="account-page__alert" role="alert">
          Your invoices could not be loaded: {messageOf(invoices.error)}
        </p>
      ) : invoices.isPending ? (
        <p aria-busy="true">Loading invoices…</p>
      ) : list.length === 0 ? (
        <p>No invoices yet.</p>
      ) : (
        <table className="invoices" data-testid="invoices">
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Invoice</th>
              <th scope="col">Total</th>
              <th scope="col">
                <span className="visually-hidden">Receipt</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((inv) => (
              <tr key={inv.number}>
                <td>{day(inv.issued_at)}</td>
                <td>{inv.number}</td>
                <td>{inv.total.display}</td>
                <td>
                  <a href={inv.receipt_url} target="_blank" rel="noreferrer">
                    Receipt<span className="visually-hidden"> for {inv.number}</span>
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function DevicesSection() {
  const devices = useDevices();
  const queries = useQueryClient();
  const { expire } = useSession();
  const go = useGo();
  const { busy, error, run } = useAction();
  const act = (change: () => Promise<void>, everywhere = false) =>
    run(async () => {
      await change();
      if (everywhere) {
        expire();
        go(paths.signIn(), { replace: true });
        return;
      }
      await queries.invalidateQueries({ queryKey: keys.devices });
    });
  const list = devices.data?.devices ?? [];
  return (
    <Section title="Devices">
      {devices.isError ? (
        <p className="account-page__alert" role="alert">
          Your devices could not be loaded: {messageOf(devices.error)}
        </p>
      ) : null}
      {error ? (
        <p className="account-page__alert" role="alert">
          {error}
        </p>
      ) : null}
      <ul className="devices" data-testid="devices">
        {list.map((d) => (
          <li key={d.id} className="devices__item">
            <span>
              <strong>{d.device}</strong>
              <span className="devices__when"> · signed in {day(d.signed_in_at)}</span>
            </span>
            {d.current ? (
              <span className="badge">This device</span>
            ) : (
              <button
                type="button"
                className="button button--secondary"
                disabled={busy}
                onClick={() => void act(() => api.signOutDevice(d.id))}
                aria-label={`Sign out ${d.device}, signed in ${day(d.signed_in_at)}`}
              >
                Sign out
              </button>
            )}
          </li>
        ))}
      </ul>
      <button type="button" className="button button--secondary" disabled={busy} onClick={() => void act(api.signOutEverywhere, true)} data-testid="sign-out-everywhere">
        Sign out of all devices
      </button>
    </Section>
  );
}
