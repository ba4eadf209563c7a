import { describe, expect, it } from 'vitest';
import { checkCard, fieldOfServerMessage } from './card';

const today = new Date(Date.UTC(2026, 11, 2));

describe('checkCard', () => {
  it('turns what was typed into the gateway fields', () => {
    const { fields, errors } = checkCard({ number: '4242 4242 4242 4242', expiry: '12 / 30', cvc: '123' }, today);
    expect(errors).toEqual({});
    expect(fields).toEqual({ number: '4242424242424242', exp_month: 12, exp_year: 2030, cvc: '123' });
  });

  it('says per field what to fix', () => {
    const { fields, errors } = checkCard({ number: '4242', expiry: '13/30', cvc: '1a3' }, today);
    expect(fields).toBeUndefined();
    expect(errors.number).toMatch(/12 to 19 digits/);
    expect(errors.expiry).toMatch(/01 to 12/);
    expect(errors.cvc).toMatch(/3 or 4 digits/);
  });

  it('refuses a card that expired last month but takes this month', () => {
    expect(checkCard({ number: '4242424242424242', expiry: '11/26', cvc: '123' }, today).errors.expiry).toMatch(/expired/);
    expect(checkCard({ number: '4242424242424242', expiry: '12/2026', cvc: '123' }, today).errors).toEqual({});
  });

  it('places the server’s reason on the field it names', () => {
    expect(fieldOfServerMessage('this card expired at the end of 01/2020')).toBe('expiry');
    expect(fieldOfServerMessage('the security code (CVC) is 3 or 4 digits')).toBe('cvc');
    expect(fieldOfServerMessage('that card number has a typo')).toBe('number');
  });
});
