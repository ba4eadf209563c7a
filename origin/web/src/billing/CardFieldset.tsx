// The card fields of the checkout and the account page: labelled, with the browser's card
// autofill hints, each error next to its field and announced.
import type { CardErrors, CardField, CardInput } from './card';

const FIELDS: { field: CardField; label: string; autoComplete: string; placeholder: string; inputMode: 'numeric' }[] = [
  { field: 'number', label: 'Card number', autoComplete: 'cc-number', placeholder: '1234 1234 1234 1234', inputMode: 'numeric' },
  { field: 'expiry', label: 'Expiry date', autoComplete: 'cc-exp', placeholder: 'MM/YY', inputMode: 'numeric' },
  { field: 'cvc', label: 'Security code (CVC)', autoComplete: 'cc-csc', placeholder: '123', inputMode: 'numeric' },
];

export function CardFieldset({
  idPrefix,
  value,
  errors,
  onChange,
}: {
  idPrefix: string;
  value: CardInput;
  errors: CardErrors;
  onChange: (value: CardInput) => void;
}) {
  return (
    <fieldset className="card-fields">
      <legend className="card-fields__legend">Card details</legend>
      <p className="field__hint" data-testid="sandbox-hint">
        Test mode: no real card is charged. Use 4242 4242 4242 4242, any future date and any three digits.
      </p>
      {FIELDS.map(({ field, label, autoComplete, placeholder, inputMode }) => {
        const id = `${idPrefix}-${field}`;
        return (
          <div className={`field card-fields__${field}`} key={field}>
            <label htmlFor={id}>{label}</label>
            <input
              id={id}
              name={autoComplete}
              autoComplete={autoComplete}
              inputMode={inputMode}
              placeholder={placeholder}
              value={value[field]}
              aria-invalid={errors[field] ? true : undefined}
              aria-describedby={errors[field] ? `${id}-error` : undefined}
              onChange={(e) => onChange({ ...value, [field]: e.target.value })}
              data-testid={`card-${field}`}
            />
            {errors[field] ? (
              <p className="field__error" id={`${id}-error`} role="alert">
                {errors[field]}
              </p>
            ) : null}
          </div>
        );
      })}
    </fieldset>
  );
}
