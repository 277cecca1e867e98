// Benchmark (issue 13): 100 contacts each through a full nomination dialog at once, emulator limits
// off and the app unpaced, so the figure is the bot's own time per answer (update → next prompt);
// baseline in the same run: a no-op telegraf bot with the same Bot API traffic as the dialog (its
// replies carry a button; the three presses are answered, the button removed and a reply sent); the
// plain bare bot (one reply per text) is reported beside it for the earlier figures. The code
// is bench/dialog.bench.ts with these options; writes bench/results/dialog-answers.json.
//
//   npm run bench:dialog-answers [-- --people 100]
process.argv.splice(2, 0, '--people', '100', '--limits', 'off', '--out', 'dialog-answers');
await import('./dialog.bench.ts');
