import test from 'ava';
import { formatLine, LineAssembler, parseLine, renderLog, tail, wanted } from '../../agents/kubelet/server/cri-log.ts';

const T1 = '2026-01-02T03:04:05.100000000Z';
const T2 = '2026-01-02T03:04:06.200000000Z';
const T3 = '2026-01-02T03:04:07.300000000Z';
const file = [
  `${T1} stdout F one`,
  `${T1} stderr F two`,
  `${T2} stdout P thr`,
  `${T2} stderr F err between`,
  `${T2} stdout F ee`,
  `${T3} stdout F four words here`,
  '',
].join('\n');

test('parseLine reads the four fields and rejects other text', (t) => {
  t.deepEqual(parseLine(`${T1} stdout F hello world`), { time: T1, stream: 'stdout', partial: false, text: 'hello world' });
  t.deepEqual(parseLine(`${T1} stderr P`), { time: T1, stream: 'stderr', partial: true, text: '' });
  t.is(parseLine(`${T1} stdin F x`), undefined);
  t.is(parseLine('garbage'), undefined);
});

test('partial records are joined per stream, stamped with their first record', (t) => {
  const asm = new LineAssembler();
  const lines = [...asm.push(file), ...asm.flush()];
  t.deepEqual(
    lines.map((l) => `${l.stream}:${l.text}`),
    ['stdout:one', 'stderr:two', 'stderr:err between', 'stdout:three', 'stdout:four words here'],
  );
  t.is(lines[3]!.time, T2);
});

test('chunks cut anywhere give the same lines as the whole text', (t) => {
  const whole = new LineAssembler();
  const expected = [...whole.push(file), ...whole.flush()];
  for (const size of [1, 3, 7, 20]) {
    const asm = new LineAssembler();
    const got = [];
    for (let i = 0; i < file.length; i += size) got.push(...asm.push(file.slice(i, i + size)));
    got.push(...asm.flush());
    t.deepEqual(got, expected, `chunk size ${size}`);
  }
});

test('an unfinished record waits for its newline, and counts at the end of input', (t) => {
  const asm = new LineAssembler();
  t.deepEqual(asm.push(`${T1} stdout F complete\n${T2} stdout F cut`), [{ time: T1, stream: 'stdout', text: 'complete' }]);
  t.deepEqual(asm.push(' here\n'), [{ time: T2, stream: 'stdout', text: 'cut here' }]);
  asm.push(`${T3} stdout P dangling`);
  t.deepEqual(asm.push('\n'), []);
  t.deepEqual(asm.flush(), [{ time: T3, stream: 'stdout', text: 'dangling' }]);
});

test('renderLog applies timestamps, tailLines, sinceTime, stream and limitBytes', (t) => {
  t.is(renderLog(file), 'one\ntwo\nerr between\nthree\nfour words here\n');
  t.is(renderLog(file, { tailLines: 2 }), 'three\nfour words here\n');
  t.is(renderLog(file, { tailLines: 0 }), '');
  t.is(renderLog(file, { tailLines: 99 }).split('\n').length, 6);
  t.is(renderLog(file, { sinceTime: new Date(T2) }), 'err between\nthree\nfour words here\n');
  // times compare at millisecond precision (the API sends sinceTime in whole seconds anyway)
  t.is(renderLog(file, { sinceTime: new Date('2026-01-02T03:04:06.2009Z') }), 'err between\nthree\nfour words here\n');
  t.is(renderLog(file, { sinceTime: new Date('2026-01-02T03:04:06.201Z') }), 'four words here\n');
  t.is(renderLog(file, { stream: 'stderr' }), 'two\nerr between\n');
  t.is(renderLog(file, { stream: 'stdout', tailLines: 1, timestamps: true }), `${T3} four words here\n`);
  t.is(renderLog(file, { limitBytes: 6 }), 'one\ntw');
  t.is(renderLog(file, { timestamps: true, limitBytes: 10 }), T1.slice(0, 10));
});

test('limitBytes counts bytes, not characters', (t) => {
  t.is(Buffer.byteLength(renderLog(`${T1} stdout F héllo\n`, { limitBytes: 3 })), 3);
});

test('helpers: wanted, tail, formatLine', (t) => {
  const l = { time: T2, stream: 'stdout' as const, text: 'x' };
  t.true(wanted(l, {}));
  t.false(wanted(l, { stream: 'stderr' }));
  t.true(wanted(l, { sinceTime: new Date(T2) }));
  t.false(wanted(l, { sinceTime: new Date(T3) }));
  t.deepEqual(tail([1, 2, 3], 2), [2, 3]);
  t.deepEqual(tail([1, 2, 3], undefined), [1, 2, 3]);
  t.is(formatLine(l, true), `${T2} x\n`);
});
