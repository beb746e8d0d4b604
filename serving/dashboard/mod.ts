/**
 * @module
 * The live dashboard of the serving layer: a page at `/` (uPlot charts of GraphQL answers) and
 * `GET /api/dashboard` (dead letters, late events, known courses and assessments).
 */
export {
  createDashboard,
  type Dashboard,
  type DashboardConfig,
  type DashboardOptions,
} from "./routes.ts";
export {
  createDashboardData,
  type DashboardData,
  type DashboardDataConfig,
  type DashboardDataOptions,
  type DashboardStatus,
  type DlqCount,
  type LateByView,
  messagesIn,
  summariseLate,
} from "./status.ts";
