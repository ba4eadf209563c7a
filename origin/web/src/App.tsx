// Screens by route; signed-in screens wait for the session and send strangers to sign-in.
import { useEffect } from 'react';
import { StatusMessage } from './components/StatusMessage';
import { TopBar } from './components/TopBar';
import { AuthPage } from './pages/AuthPage';
import { BrowsePage } from './pages/BrowsePage';
import { PlayerPage } from './pages/PlayerPage';
import { TitlePage } from './pages/TitlePage';
import { paths, useRouter, type Route } from './router';
import { useSession } from './session';

export function App() {
  const { route, location, navigate } = useRouter();
  const { state } = useSession();
  const isAuthRoute = route.name === 'signin' || route.name === 'signup';

  // Redirect after render, never during it.
  useEffect(() => {
    if (state.status === 'signed-out' && !isAuthRoute) navigate(paths.signIn(location), { replace: true });
    if (state.status === 'signed-in' && isAuthRoute) navigate(route.next, { replace: true });
  }, [state.status, isAuthRoute, location, navigate, route]);

  useEffect(() => {
    document.title = titleFor(route);
  }, [route]);

  if (route.name === 'signin' || route.name === 'signup') {
    return state.status === 'signed-in' ? null : <AuthPage key={route.name} mode={route.name} next={route.next} />;
  }
  if (state.status === 'loading' || state.status === 'signed-out') return <Splash />;
  if (state.status === 'error')
    return <StatusMessage title="Marquee is unavailable" message={state.message} retry />;

  if (route.name === 'watch') return <PlayerPage key={route.id} id={route.id} />;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <TopBar account={state.account} />
      {route.name === 'browse' ? <BrowsePage /> : null}
      {route.name === 'title' ? <TitlePage key={route.id} id={route.id} /> : null}
      {route.name === 'not-found' ? (
        <StatusMessage title="Page not found" message="There is nothing at this address." home />
      ) : null}
    </>
  );
}

function titleFor(route: Route): string {
  switch (route.name) {
    case 'signin':
      return 'Sign in · Marquee';
    case 'signup':
      return 'Create your account · Marquee';
    case 'watch':
      return 'Watching · Marquee';
    default:
      return 'Marquee';
  }
}

function Splash() {
  return (
    <div className="splash" role="status" aria-label="Loading Marquee">
      <span className="wordmark wordmark--big" aria-hidden="true">
        MARQUEE
      </span>
    </div>
  );
}
