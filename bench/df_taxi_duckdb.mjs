// DuckDB's side of bench/df_taxi.lua, through npm's @duckdb/node-api
// (bench/package.json; `npm ci` in bench/): the same three queries over
// every CSV of DIR, each reading the files again -- the row count, the
// nulls of every column, payment_type's means of total_amount and
// trip_distance -- on 2 threads, the columns as read_csv detects them.
// Prints "time QUERY SECONDS" and "peak QUERY MIB" (the process's peak
// resident memory) for bench/run.py, the answers on stderr.  With a query
// named, only that one runs (bench/run.py measures each in its own process,
// so that the peak is its own); without, all three and "peak all".
//
//   node bench/df_taxi_duckdb.mjs DIR [rows | isnull | groupby]

import { DuckDBInstance } from '@duckdb/node-api';

const [dir, only] = process.argv.slice(2);
if (!dir || (only && !['rows', 'isnull', 'groupby'].includes(only))) {
  console.error('usage: node bench/df_taxi_duckdb.mjs DIR [rows | isnull | groupby]');
  process.exit(2);
}
const csv = `read_csv('${(dir + '/*.csv').replaceAll("'", "''")}', header = true)`;

const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
await con.run('SET threads = 2');

const queries = {
  rows: async () => {
    const r = await con.runAndReadAll(`SELECT count(*) FROM ${csv}`);
    return [`rows ${r.getRows()[0][0]}`];
  },
  // one count a column: COLUMNS(*) keeps the columns' names
  isnull: async () => {
    const r = await con.runAndReadAll(`SELECT count_if(COLUMNS(*) IS NULL) FROM ${csv}`);
    const counts = r.getRows()[0];
    return r.columnNames().map((name, i) => `null ${name} ${counts[i]}`);
  },
  groupby: async () => {
    const r = await con.runAndReadAll(
      `SELECT payment_type, avg(total_amount), avg(trip_distance) FROM ${csv}
       GROUP BY payment_type ORDER BY payment_type`);
    return r.getRows().map(([p, total, dist]) => `mean ${p} ${total} ${dist}`);
  },
};

const peak = () => (process.resourceUsage().maxRSS / 1024).toFixed(1); // KiB
for (const name of only ? [only] : Object.keys(queries)) {
  const t0 = performance.now();
  const answer = await queries[name]();
  console.log(`time ${name} ${((performance.now() - t0) / 1000).toFixed(6)}`);
  if (only) console.log(`peak ${name} ${peak()}`);
  console.error(answer.join('\n'));
}
if (!only) console.log(`peak all ${peak()}`);
con.closeSync();
instance.closeSync();
