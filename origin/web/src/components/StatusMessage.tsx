// A centred message for empty, error and not-found screens.
import type { ReactNode } from 'react';
import { Link, paths } from '../router';

interface StatusMessageProps {
  title: string;
  message: string;
  retry?: boolean;
  home?: boolean;
  children?: ReactNode;
}

export function StatusMessage({ title, message, retry = false, home = false, children }: StatusMessageProps) {
  return (
    <main id="main" className="status" data-testid="status-message">
      <h1 className="status__title">{title}</h1>
      <p className="status__message" role={retry ? 'alert' : undefined}>
        {message}
      </p>
      <div className="status__actions">
        {retry ? (
          <button type="button" className="button button--secondary" onClick={() => window.location.reload()}>
            Try again
          </button>
        ) : null}
        {home ? (
          <Link to={paths.browse()} className="button button--secondary">
            Back to browse
          </Link>
        ) : null}
        {children}
      </div>
    </main>
  );
}
