// Screens by route. Signed-in screens wait for the session and send strangers to sign-in;
// screens that belong to a profile send a session without one to "Who's watching?".
import { useEffect, type ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation, useParams, useSearchParams } from 'react-router';
import { StatusMessage } from './components/StatusMessage';
import { TopBar } from './components/TopBar';
import { AccountPage } from './pages/AccountPage';
import { AuthPage } from './pages/AuthPage';
import { CheckoutPage } from './pages/CheckoutPage';
import { PlansPage } from './pages/PlansPage';
import { BrowsePage } from './pages/BrowsePage';
import { FleetPage } from './pages/FleetPage';
import { HistoryPage } from './pages/HistoryPage';
import { MyListPage } from './pages/MyListPage';
import { NotificationSettingsPage } from './pages/NotificationSettingsPage';
import { UnsubscribePage } from './pages/UnsubscribePage';
import { PlayerPage } from './pages/PlayerPage';
import { ProfileEditorPage } from './pages/ProfileEditorPage';
import { SearchPage } from './pages/SearchPage';
import { TitlePage } from './pages/TitlePage';
import { WhoIsWatchingPage } from './pages/WhoIsWatchingPage';
import { paths, safeNext, useHere } from './router';
import { useSession } from './session';

export function App() {
  const { state } = useSession();
  const kids = state.status === 'signed-in' && state.account.profile?.kids === true;
  // The kids' look is a theme on the whole page (colours, sizes, a simpler bar).
  useEffect(() => {
    document.documentElement.classList.toggle('kids', kids);
  }, [kids]);
  return (
    <Routes>
      <Route path="/signin" element={<Auth mode="signin" />} />
      <Route path="/signup" element={<Auth mode="signup" />} />
      <Route path="/plans" element={<PlansRoute />} />
      <Route path="/checkout" element={<SignedIn title="Set up your card"><CheckoutRoute /></SignedIn>} />
      <Route path="/account" element={<SignedIn title="Account" bar><AccountPage /></SignedIn>} />
      <Route path="/profiles" element={<SignedIn title="Who's watching?"><WhoIsWatchingPage /></SignedIn>} />
      <Route path="/profiles/new" element={<SignedIn title="Add a profile"><ProfileEditorPage /></SignedIn>} />
      <Route path="/profiles/:id/edit" element={<SignedIn title="Edit profile"><EditProfile /></SignedIn>} />
      <Route path="/" element={<Watching title="Home" bar><BrowsePage /></Watching>} />
      <Route path="/title/:id" element={<Watching title="Title" bar><TitleRoute /></Watching>} />
      <Route path="/search" element={<Watching title="Search" bar><SearchPage /></Watching>} />
      <Route path="/genre/:name" element={<Watching title="Genre" bar><GenreRoute /></Watching>} />
      <Route path="/my-list" element={<Watching title="My List" bar><MyListPage /></Watching>} />
      <Route path="/history" element={<Watching title="Viewing history" bar><HistoryPage /></Watching>} />
      <Route path="/watch/:id" element={<Watching title="Watching"><WatchRoute /></Watching>} />
      <Route
        path="/settings/notifications"
        element={<Watching title="Notification settings" bar><NotificationSettingsPage /></Watching>}
      />
      <Route path="/admin/fleet" element={<SignedIn title="Fleet" bar><AdminOnly><FleetPage /></AdminOnly></SignedIn>} />
      <Route path="/unsubscribe/:token" element={<UnsubscribeRoute />} />
      <Route
        path="*"
        element={
          <SignedIn title="Page not found" bar>
            <StatusMessage title="Page not found" message="There is nothing at this address." home />
          </SignedIn>
        }
      />
    </Routes>
  );
}

function Auth({ mode }: { mode: 'signin' | 'signup' }) {
  const { state } = useSession();
  const [query] = useSearchParams();
  const next = safeNext(query.get('next'));
  useDocumentTitle(mode === 'signin' ? 'Sign in' : 'Create your account');
  if (state.status === 'signed-in') return <Navigate to={next} replace />;
  return <AuthPage key={mode} mode={mode} next={next} />;
}

/** Public: signed-out viewers choose a plan before they have an account. */
function PlansRoute() {
  const { state } = useSession();
  useDocumentTitle('Choose your plan');
  if (state.status === 'loading') return <Splash />;
  return <PlansPage />;
}

function CheckoutRoute() {
  const [query] = useSearchParams();
  return <CheckoutPage planId={query.get('plan') ?? 'standard'} />;
}

function useDocumentTitle(title: string) {
  useEffect(() => {
    document.title = title === 'Home' ? 'Marquee' : `${title} · Marquee`;
  }, [title]);
}

/** Waits for the session; strangers go to sign-in and come back here after. */
function SignedIn({ title, bar = false, children }: { title: string; bar?: boolean; children: ReactNode }) {
  const { state } = useSession();
  const here = useHere();
  useDocumentTitle(title);
  if (state.status === 'signed-out') return <Navigate to={paths.signIn(here)} replace />;
  if (state.status === 'loading') return <Splash />;
  if (state.status === 'error') return <StatusMessage title="Marquee is unavailable" message={state.message} retry />;
  return (
    <>
      {bar ? (
        <>
          <a className="skip-link" href="#main">
            Skip to content
          </a>
          <TopBar account={state.account} />
        </>
      ) : null}
      {children}
    </>
  );
}

/** A signed-in screen that belongs to a profile: without one chosen, "Who's watching?" first. */
function Watching({ title, bar = false, children }: { title: string; bar?: boolean; children: ReactNode }) {
  const { state } = useSession();
  const location = useLocation();
  if (state.status === 'signed-in' && !state.account.profile) {
    return <Navigate to={paths.profiles(location.pathname + location.search)} replace />;
  }
  return (
    <SignedIn title={title} bar={bar}>
      {children}
    </SignedIn>
  );
}

/** Admin screens: other accounts are told so rather than shown a failing page. */
function AdminOnly({ children }: { children: ReactNode }) {
  const { state } = useSession();
  if (state.status === 'signed-in' && !state.account.is_admin) {
    return <StatusMessage title="For admins only" message="This page is for the people who run this Marquee." home />;
  }
  return <>{children}</>;
}

function EditProfile() {
  const { id = '' } = useParams();
  return <ProfileEditorPage key={id} id={id} />;
}

function TitleRoute() {
  const { id = '' } = useParams();
  return <TitlePage key={id} id={id} />;
}

/** Opened from an email, maybe on a device that is not signed in: needs no session. */
function UnsubscribeRoute() {
  const { token = '' } = useParams();
  useDocumentTitle('Unsubscribe');
  return <UnsubscribePage token={token} />;
}

function WatchRoute() {
  const { id = '' } = useParams();
  const [query] = useSearchParams();
  const episode = query.get('episode') ?? undefined;
  return <PlayerPage key={`${id}/${episode ?? ''}`} id={id} episodeId={episode} />;
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

/** A genre page: the search page with the genre fixed (keyed, so another genre starts afresh). */
function GenreRoute() {
  const { name = '' } = useParams();
  return <SearchPage key={name} genre={name} />;
}
