export type { CascadeResults, PayloadRow, Prices, Row } from './cascade/analysis.ts';
export { analyse, cheapestWithin, SCORERS } from './cascade/analysis.ts';
export type { CascadeBenchConfig } from './cascade/config.ts';
export { CascadeBenchSchema, cascadeConfigFromCli } from './cascade/config.ts';
export { cascadeHeadline, toChartSvg, toCsv, toMarkdown } from './cascade/report.ts';
export type { BenchCli } from './cli.ts';
export type { DetectBenchConfig } from './detect/config.ts';
export { DetectBenchSchema, detectBenchConfigFromCli } from './detect/config.ts';
export type { GatewayBenchConfig } from './gateway/config.ts';
export { GatewayBenchSchema, gatewayBenchConfigFromCli } from './gateway/config.ts';
export type { GatewayBenchResults } from './gateway/report.ts';
export { gatewayHeadline, gatewayTable } from './gateway/report.ts';
export type { MachineInfo } from './machine.ts';
export { describeMachine, machineInfo } from './machine.ts';
export type { BenchName, HeadlineRow } from './publish.ts';
export {
  BENCHES,
  headings,
  MissingMarkersError,
  publish,
  publishProblems,
  relativeLink,
  sectionAnchor,
  slugify,
  spliceHeadline,
  spliceSection,
} from './publish.ts';
