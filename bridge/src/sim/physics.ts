// The electrical behaviour of one simulated meter as closed-form functions of time: no state, no timers, so a
// thousand meters cost a few numbers each and any instant can be evaluated (including load-profile rows in the past).
// Power is a positive sum of sinusoids, so its integral (the energy register) is monotonic by construction.

/** Energy is counted from this instant (2020-01-01T00:00:00Z); the seed adds a meter-specific starting reading. */
const ENERGY_EPOCH_MS = 1_577_836_800_000;
const TWO_PI = 2 * Math.PI;

/** mulberry32: a tiny seeded PRNG, good enough to give each meter its own parameters. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Deterministic noise in [-1, 1) for (seed, channel, second): the same instant always reads the same. */
function noise(seed: number, channel: number, second: number): number {
  let h =
    Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(channel + 1, 0xc2b2ae35) ^ Math.imul(second | 0, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) >>> 0) / 2_147_483_648 - 1;
}

interface Wave {
  amplitude: number;
  omega: number; // rad/s
  phase: number;
}

export interface PhaseReading {
  voltage: number; // V
  current: number; // A
  activePower: number; // W
}

export interface InstantReading {
  phases: [PhaseReading, PhaseReading, PhaseReading];
  frequency: number; // Hz
  activePower: number; // W, total
  reactivePower: number; // var, total
  powerFactor: number; // 0..1
  activeEnergyImport: number; // Wh, total since commissioning
}

export class MeterPhysics {
  private readonly basePower: number;
  private readonly waves: [Wave, Wave];
  private readonly startEnergyWh: number;
  private readonly nominalVoltage: number;
  private readonly basePowerFactor: number;
  private readonly voltageWave: Wave;
  private readonly imbalanceWave: Wave;

  constructor(private readonly seed: number) {
    const random = seededRandom(seed);
    const between = (lo: number, hi: number) => lo + (hi - lo) * random();
    this.basePower = between(800, 6000);
    // A slow swing (10–30 min period) and a fast one (1–3 min) so a poll every few seconds sees changes.
    this.waves = [
      { amplitude: 0.4 * this.basePower, omega: TWO_PI / between(600, 1800), phase: between(0, TWO_PI) },
      { amplitude: 0.15 * this.basePower, omega: TWO_PI / between(60, 180), phase: between(0, TWO_PI) },
    ];
    this.startEnergyWh = Math.floor(between(1e6, 5e7));
    this.nominalVoltage = between(228, 233);
    this.basePowerFactor = between(0.9, 0.97);
    this.voltageWave = { amplitude: between(1, 4), omega: TWO_PI / between(300, 900), phase: between(0, TWO_PI) };
    this.imbalanceWave = {
      amplitude: between(0.03, 0.12),
      omega: TWO_PI / between(120, 600),
      phase: between(0, TWO_PI),
    };
  }

  /** Total active power (W) at t; always positive because the wave amplitudes sum to 55 % of the base. */
  activePower(ms: number): number {
    const t = ms / 1000;
    return this.basePower + this.waves.reduce((sum, w) => sum + w.amplitude * Math.sin(w.omega * t + w.phase), 0);
  }

  /** Imported active energy (Wh): the starting reading plus the exact integral of activePower since the epoch. */
  activeEnergy(ms: number): number {
    const t = (ms - ENERGY_EPOCH_MS) / 1000;
    const t0 = ENERGY_EPOCH_MS / 1000;
    let joules = this.basePower * t;
    for (const w of this.waves) {
      joules += (w.amplitude / w.omega) * (Math.cos(w.omega * t0 + w.phase) - Math.cos(w.omega * (t0 + t) + w.phase));
    }
    return this.startEnergyWh + joules / 3600;
  }

  read(ms: number): InstantReading {
    const t = ms / 1000;
    const second = Math.floor(t);
    const total = this.activePower(ms);
    const powerFactor = Math.min(
      0.999,
      this.basePowerFactor + 0.02 * Math.sin(t / 97 + this.seed) + 0.003 * noise(this.seed, 9, second),
    );
    const phases = [0, 1, 2].map((k) => {
      const angle = (TWO_PI * k) / 3;
      // The three shares carry sinusoids 120° apart, which sum to zero: the phase powers add up to the total.
      const share =
        (1 + this.imbalanceWave.amplitude * Math.sin(this.imbalanceWave.omega * t + this.imbalanceWave.phase + angle)) /
        3;
      const voltage =
        this.nominalVoltage +
        this.voltageWave.amplitude * Math.sin(this.voltageWave.omega * t + this.voltageWave.phase + angle) +
        0.4 * noise(this.seed, k, second);
      const activePower = total * share;
      return { voltage, activePower, current: activePower / (voltage * powerFactor) };
    }) as [PhaseReading, PhaseReading, PhaseReading];
    return {
      phases,
      frequency: 50 + 0.03 * Math.sin(t / 41 + this.seed) + 0.005 * noise(this.seed, 7, second),
      activePower: total,
      reactivePower: total * Math.tan(Math.acos(powerFactor)),
      powerFactor,
      activeEnergyImport: this.activeEnergy(ms),
    };
  }
}
