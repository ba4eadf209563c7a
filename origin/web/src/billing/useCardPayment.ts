// Checking the typed card, saving it with the gateway and paying with it: one hook for the
// checkout and for replacing the card, so both handle errors alike (a reason on the field it
// is about, a decline as an alert, a 3-D Secure challenge by going to its page).
import { useState } from 'react';
import { api, ApiError, messageOf, type BillingOverview } from '../api';
import { checkCard, fieldOfServerMessage, type CardErrors, type CardInput } from './card';

export const EMPTY_CARD: CardInput = { number: '', expiry: '', cvc: '' };

export function useCardPayment(idPrefix: string) {
  const [card, setCard] = useState<CardInput>(EMPTY_CARD);
  const [errors, setErrors] = useState<CardErrors>({});
  const [alert, setAlert] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  /** Saves the card and runs `pay` with its id; the overview after, or null when it failed
   * (the reason is on screen) or the viewer was sent to a challenge page. */
  const submit = async (pay: (paymentMethod: string) => Promise<BillingOverview>): Promise<BillingOverview | null> => {
    setAlert(null);
    const checked = checkCard(card);
    setErrors(checked.errors);
    if (!checked.fields) {
      const first = (['number', 'expiry', 'cvc'] as const).find((f) => checked.errors[f]);
      if (first) document.getElementById(`${idPrefix}-${first}`)?.focus();
      return null;
    }
    setBusy(true);
    try {
      const saved = await api.saveCard(checked.fields);
      const after = await pay(saved.id);
      const challenge = after.last_charge?.status === 'requires_action' ? after.last_charge.challenge_url : null;
      if (challenge) {
        window.location.assign(challenge);
        return null;
      }
      setCard(EMPTY_CARD);
      return after;
    } catch (error) {
      if (error instanceof ApiError && error.code === 'invalid_card') {
        setErrors({ [fieldOfServerMessage(error.message)]: error.message });
      } else {
        setAlert(messageOf(error));
      }
      return null;
    } finally {
      setBusy(false);
    }
  };

  return { card, setCard, errors, alert, busy, submit };
}
