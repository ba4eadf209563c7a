// The payment form's checks, before anything is sent: what a viewer typed, turned into the
// sandbox gateway's card fields or a sentence per field saying what to fix. Origin checks
// again (the check digit, test cards only).

export interface CardInput {
  number: string;
  expiry: string;
  cvc: string;
}

export type CardField = keyof CardInput;
export type CardErrors = Partial<Record<CardField, string>>;

export interface CardFields {
  number: string;
  exp_month: number;
  exp_year: number;
  cvc: string;
}

/** `MM/YY`, `MM / YY` or `MM/YYYY`. */
const EXPIRY = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/;

export function checkCard(input: CardInput, today: Date = new Date()): { fields?: CardFields; errors: CardErrors } {
  const errors: CardErrors = {};
  const digits = input.number.replace(/[\s-]/g, '');
  if (digits === '') errors.number = 'Enter the card number.';
  else if (!/^\d{12,19}$/.test(digits)) errors.number = 'A card number has 12 to 19 digits.';
  const expiry = EXPIRY.exec(input.expiry);
  let month = 0;
  let year = 0;
  if (!expiry) {
    errors.expiry = 'Enter the expiry date as MM/YY.';
  } else {
    const [, mm = '', yy = ''] = expiry;
    month = Number(mm);
    year = Number(yy.length === 2 ? `20${yy}` : yy);
    const now = today.getUTCFullYear() * 12 + today.getUTCMonth() + 1;
    if (month < 1 || month > 12) errors.expiry = 'The month is 01 to 12.';
    else if (year * 12 + month < now) errors.expiry = 'This card has expired.';
  }
  const cvc = input.cvc.trim();
  if (!/^\d{3,4}$/.test(cvc)) errors.cvc = 'The security code is the 3 or 4 digits on the card.';
  if (Object.keys(errors).length > 0) return { errors };
  return { fields: { number: digits, exp_month: month, exp_year: year, cvc }, errors };
}

/** Which field origin's `invalid_card` message is about (it names it). */
export function fieldOfServerMessage(message: string): CardField {
  if (/expir|month/i.test(message)) return 'expiry';
  if (/cvc|security code/i.test(message)) return 'cvc';
  return 'number';
}
