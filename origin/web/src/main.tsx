import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { ApiError } from './api';
import { App } from './App';
import { SessionProvider } from './session';
import { startSpatialNavigation } from './tv/spatial';
import './styles/base.css';
import './styles/browse.css';
import './styles/title.css';
import './styles/auth.css';
import './styles/player.css';
import './styles/profiles.css';
import './styles/lists.css';
import './styles/search.css';
import './styles/notifications.css';
import './styles/billing.css';
import './styles/kids.css';
import './styles/tv.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      // A 4xx will not change by asking again; a network blip or a 503 might.
      retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
      refetchOnWindowFocus: false,
    },
  },
});

startSpatialNavigation();

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <BrowserRouter>
        <SessionProvider>
          <App />
        </SessionProvider>
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
