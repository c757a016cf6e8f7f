/**
 * What a cloud run cost (report.json `cost`, lib/cloud/cost.ts) as a table: one row per item with
 * its quantity, unit price and basis (measured or estimated), and the total. Local runs have none.
 */
import type { RunCost } from '../cloud/cost';
import type { Section } from './sections';
import type { Table } from './tables';

function usd(value: number | null): string {
  if (value === null) return 'no price';
  return value < 0.01 ? `$${value.toFixed(5)}` : `$${value.toFixed(3)}`;
}

/** The cost table; null without a cost (local runs, older cloud runs). */
function costTable(cost: RunCost | null | undefined): Table | null {
  if (cost === null || cost === undefined) return null;
  const rows = cost.items.map((i) => [
    i.detail,
    `${i.quantity.toLocaleString('en-US', { maximumFractionDigits: 3 })} ${i.unit}`,
    i.unit_usd === null ? '–' : `$${i.unit_usd}`,
    usd(i.usd),
    i.basis,
  ]);
  rows.push(['total', '', '', `${usd(cost.total_usd)}${cost.complete ? '' : ' (incomplete)'}`, '']);
  return { head: ['item', 'quantity', 'unit price', 'cost', 'basis'], rows };
}

/** The line under the table: where the prices come from. */
function costNote(cost: RunCost): string {
  return `${cost.note} Prices: ${cost.prices.file}, dated ${cost.prices.date}.`;
}

/** The cost's section, in the run's report and the matrix's (left out without a cost). */
export function costSection(cost: RunCost | null | undefined): Section {
  const table = costTable(cost);
  return {
    id: 'cost',
    title: 'What the run cost (estimate)',
    tables: table === null ? [] : [table],
    note: cost === null || cost === undefined ? null : costNote(cost),
  };
}
