// Sign-in and sign-up: one form, checked here first, then by origin (its errors shown inline).
import { useState, type FormEvent } from 'react';
import { api, ApiError, messageOf } from '../api';
import { Wordmark } from '../components/TopBar';
import { Link, paths, useGo } from '../router';
import { useSession } from '../session';

type Mode = 'signin' | 'signup';
type Field = 'email' | 'password' | 'displayName';
type FieldErrors = Partial<Record<Field, string>>;

const MIN_PASSWORD = 10; // origin refuses shorter (password_too_short)
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function validate(mode: Mode, email: string, password: string, displayName: string): FieldErrors {
  const errors: FieldErrors = {};
  if (email.trim() === '') errors.email = 'Enter your email address.';
  else if (!EMAIL_SHAPE.test(email.trim())) errors.email = 'That does not look like an email address.';
  if (password === '') errors.password = mode === 'signup' ? 'Choose a password.' : 'Enter your password.';
  else if (mode === 'signup' && password.length < MIN_PASSWORD)
    errors.password = `Use at least ${MIN_PASSWORD} characters.`;
  if (mode === 'signup' && displayName.length > 64) errors.displayName = 'Keep your name under 64 characters.';
  return errors;
}

/** Put a server error next to the field it is about, when its code says which. */
function placeServerError(error: unknown): { field?: Field; message: string } {
  const message = messageOf(error);
  if (!(error instanceof ApiError)) return { message };
  if (error.code.includes('email')) return { field: 'email', message };
  if (error.code.includes('password')) return { field: 'password', message };
  if (error.code.includes('display_name')) return { field: 'displayName', message };
  return { message };
}

export function AuthPage({ mode, next }: { mode: Mode; next: string }) {
  const { signedIn } = useSession();
  const navigate = useGo();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const signup = mode === 'signup';

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setFormError(null);
    const found = validate(mode, email, password, displayName);
    setErrors(found);
    if (Object.keys(found).length > 0) {
      const first = (['displayName', 'email', 'password'] as const).find((f) => found[f]);
      if (first) document.getElementById(`auth-${first}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      const account = signup
        ? await api.signUp(email.trim(), password, displayName.trim() || undefined)
        : await api.signIn(email.trim(), password);
      signedIn(account);
      navigate(next, { replace: true });
    } catch (error) {
      const placed = placeServerError(error);
      if (placed.field) setErrors({ [placed.field]: placed.message });
      else setFormError(placed.message);
    } finally {
      setBusy(false);
    }
  };

  const fieldProps = (field: Field) => ({
    id: `auth-${field}`,
    'aria-invalid': errors[field] ? true : undefined,
    'aria-describedby': errors[field] ? `auth-${field}-error` : undefined,
  });
  const fieldError = (field: Field) =>
    errors[field] ? (
      <p className="field__error" id={`auth-${field}-error`} data-testid={`error-${field}`}>
        {errors[field]}
      </p>
    ) : null;

  return (
    <div className="auth">
      <div className="auth__backdrop" aria-hidden="true" />
      <header className="auth__header">
        <Link to={paths.browse()} aria-label="Marquee home" className="topbar__home">
          <Wordmark />
        </Link>
      </header>
      <main className="auth__main" id="main">
        <form className="auth__card" onSubmit={onSubmit} noValidate data-testid={`${mode}-form`}>
          {signup && next.startsWith('/checkout') ? <p className="plans__step">Step 2 of 3</p> : null}
          <h1 className="auth__title">{signup ? 'Create your account' : 'Sign in'}</h1>
          <p className="auth__lede">
            {signup ? 'Films and series, streamed from an edge near you.' : 'Welcome back. Pick up where you left off.'}
          </p>
          {formError ? (
            <p className="auth__alert" role="alert" data-testid="form-error">
              {formError}
            </p>
          ) : null}
          {signup ? (
            <div className="field">
              <label htmlFor="auth-displayName">
                Your name <span className="field__optional">(optional)</span>
              </label>
              <input
                {...fieldProps('displayName')}
                name="display_name"
                autoComplete="nickname"
                value={displayName}
                onChange={(e) => setDisplayName(e.target.value)}
                data-testid="input-display-name"
              />
              {fieldError('displayName')}
            </div>
          ) : null}
          <div className="field">
            <label htmlFor="auth-email">Email</label>
            <input
              {...fieldProps('email')}
              name="email"
              type="email"
              inputMode="email"
              autoComplete={signup ? 'email' : 'username'}
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              data-testid="input-email"
            />
            {fieldError('email')}
          </div>
          <div className="field">
            <label htmlFor="auth-password">Password</label>
            <input
              {...fieldProps('password')}
              name="password"
              type="password"
              autoComplete={signup ? 'new-password' : 'current-password'}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              data-testid="input-password"
            />
            {signup && !errors.password ? (
              <p className="field__hint">At least {MIN_PASSWORD} characters.</p>
            ) : null}
            {fieldError('password')}
          </div>
          <button className="button button--brand auth__submit" type="submit" disabled={busy} data-testid="auth-submit">
            {busy ? (signup ? 'Creating account…' : 'Signing in…') : signup ? 'Create account' : 'Sign in'}
          </button>
          <p className="auth__switch">
            {signup ? 'Already have an account? ' : 'New to Marquee? '}
            {/* New viewers start where streaming services start them: the plans. */}
            <Link to={signup ? paths.signIn(next) : next === '/' ? paths.plans() : paths.signUp(next)} data-testid="auth-switch">
              {signup ? 'Sign in' : 'Create an account'}
            </Link>
          </p>
        </form>
      </main>
    </div>
  );
}
