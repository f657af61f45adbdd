export type { CascadeResults, PayloadRow, Prices, Row } from './cascade/analysis.ts';
export { analyse, SCORERS } from './cascade/analysis.ts';
export { spliceReadme, toChartSvg, toCsv, toMarkdown } from './cascade/report.ts';
export type { MachineInfo } from './machine.ts';
export { describeMachine, machineInfo } from './machine.ts';
