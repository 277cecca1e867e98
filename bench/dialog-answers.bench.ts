// Benchmark (issue 13): 100 contacts each through a full nomination dialog at once, emulator limits
// off and the app unpaced, so the figure is the bot's own time per answer (update → next prompt);
// baseline in the same run: a no-op telegraf bot answering every update with one message. The code
// is bench/dialog.bench.ts with these options; writes bench/results/dialog-answers.json.
//
//   npm run bench:dialog-answers [-- --people 100]
process.argv.splice(2, 0, '--people', '100', '--limits', 'off', '--out', 'dialog-answers');
await import('./dialog.bench.ts');
