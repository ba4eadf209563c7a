// The fleet, for admins: every edge the control-plane knows, with its health, load and cache
// figures, refreshed every few seconds. Plain table semantics, so a screen reader reads each
// edge's row with its column names.
import { messageOf, type FleetEdge } from '../api';
import { StatusMessage } from '../components/StatusMessage';
import { formatBytes, formatPercent } from '../format';
import { useFleet } from '../queries';

/** The one word an operator looks for first. */
export function healthOf(edge: FleetEdge): 'Serving' | 'Draining' | 'Drained' | 'Down' {
  if (!edge.healthy) return 'Down';
  if (edge.drained) return 'Drained';
  if (edge.draining) return 'Draining';
  return 'Serving';
}

function seenAgo(ms: number): string {
  return ms < 1_000 ? 'just now' : `${Math.round(ms / 1_000)} s ago`;
}

export function FleetPage() {
  const fleet = useFleet();
  if (fleet.isPending) return <main id="main" className="page" aria-busy="true" aria-label="Loading the fleet" />;
  if (fleet.isError) return <StatusMessage title="We could not load the fleet" message={messageOf(fleet.error)} retry />;
  const { edges, control_plane } = fleet.data;
  const serving = edges.filter((e) => healthOf(e) === 'Serving').length;
  return (
    <main id="main" className="page" data-testid="fleet">
      <div className="page__head">
        <h1 className="page__title">Fleet</h1>
        <p className="fleet__summary" aria-live="polite" data-testid="fleet-summary">
          {control_plane ? `${serving} of ${edges.length} edges serving` : 'No control-plane is configured for this origin.'}
        </p>
      </div>
      {edges.length === 0 ? (
        <p className="page__empty">{control_plane ? 'No edge has reported yet.' : 'Start origin with --control-plane to see its edges.'}</p>
      ) : (
        <div className="fleet__scroll">
          <table className="fleet">
            <caption className="visually-hidden">Edges by id, with health, load and cache figures since each started</caption>
            <thead>
              <tr>
                <th scope="col">Edge</th>
                <th scope="col">Region</th>
                <th scope="col">Health</th>
                <th scope="col">Load</th>
                <th scope="col">Hit ratio</th>
                <th scope="col">Served</th>
                <th scope="col">Requests</th>
                <th scope="col">Last heard</th>
              </tr>
            </thead>
            <tbody>
              {edges.map((edge) => {
                const health = healthOf(edge);
                return (
                  <tr key={edge.edge_id} data-testid="fleet-edge">
                    <th scope="row">
                      <span className="fleet__id">{edge.edge_id}</span>
                      <span className="fleet__url">{edge.public_url}</span>
                    </th>
                    <td>{edge.region}</td>
                    <td>
                      <span className={`fleet__health fleet__health--${health.toLowerCase()}`} data-testid="fleet-health">
                        {health}
                      </span>
                    </td>
                    <td>{edge.load === null || edge.load === undefined ? `${edge.active_requests} active` : formatPercent(edge.load)}</td>
                    <td data-testid="fleet-hit-ratio">{formatPercent(edge.hit_ratio)}</td>
                    <td>{formatBytes(edge.bytes_served_total)}</td>
                    <td>{edge.requests_total.toLocaleString()}</td>
                    <td>{seenAgo(edge.last_seen_ms_ago)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}
