// @vkd/metrics/cli: the `vkd-metrics` command as a function (Node only: it reads files with node:fs). The root entry
// `@vkd/metrics` stays free of Node built-ins so it can go into a browser bundle.
export { runMetricsCli, METRICS_CLI_HELP } from './cli/run-metrics-cli';
export type { CliIo } from './cli/run-metrics-cli';
export { formatRankingTable } from './cli/format-ranking-table';
