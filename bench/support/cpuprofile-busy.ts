// Which samples of a V8 CPU profile fall in its busy stretches: a profile of a whole server process
// holds startup, seeding and waits; the timed drains are the stretches of >= 2 s that are busy.

const BIN_US = 100_000;
const MIN_RUN_BINS = 20;

/** The profile's fields this needs. */
export interface Sampled {
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One flag per sample: in a stretch of >= 2 s whose every 100 ms bin is at least `busyShare` non-idle. */
export function busyMask(p: Sampled, idle: ReadonlySet<number>, busyShare: number): boolean[] {
  let t = p.startTime;
  const times = p.timeDeltas.map((d) => (t += d));
  const first = times[0] ?? 0;
  const bins = new Map<number, { all: number; busy: number }>();
  times.forEach((at, i) => {
    const b = Math.floor((at - first) / BIN_US);
    const bin = bins.get(b) ?? { all: 0, busy: 0 };
    bin.all += 1;
    if (!idle.has(p.samples[i] ?? -1)) bin.busy += 1;
    bins.set(b, bin);
  });
  const last = Math.floor(((times.at(-1) ?? first) - first) / BIN_US);
  const isBusy = (b: number): boolean => {
    const bin = bins.get(b);
    return bin !== undefined && bin.busy / bin.all >= busyShare;
  };
  const keep = new Set<number>();
  for (let b = 0; b <= last;) {
    let e = b;
    while (e <= last && isBusy(e)) e += 1;
    if (e - b >= MIN_RUN_BINS) for (let x = b; x < e; x += 1) keep.add(x);
    b = e === b ? b + 1 : e;
  }
  return times.map((at) => keep.has(Math.floor((at - first) / BIN_US)));
}
