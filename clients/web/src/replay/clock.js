// Replay clock: play, pause, speed and seek over [t0, t1] (meeting time, seconds). Pure: the
// wall clock is passed in (`now()` in seconds).

export const SPEEDS = Object.freeze([0.5, 1, 2, 4, 8]);

export class ReplayClock {
  constructor(t0, t1, { now = () => performance.now() / 1000 } = {}) {
    this.t0 = t0;
    this.t1 = t1;
    this.now = now;
    this.speed = 1;
    this.playing = false;
    this._base = t0; // meeting time at _wall
    this._wall = now();
  }

  /** Meeting time now (clamped; playback pauses at the end). */
  time() {
    if (!this.playing) return this._base;
    const t = this._base + (this.now() - this._wall) * this.speed;
    if (t >= this.t1) {
      this.playing = false;
      this._base = this.t1;
      return this.t1;
    }
    return t;
  }

  play() {
    if (this.playing) return;
    if (this._base >= this.t1) this._base = this.t0;
    this._wall = this.now();
    this.playing = true;
  }

  pause() {
    if (!this.playing) return;
    this._base = this.time();
    this.playing = false;
  }

  seek(t) {
    this._base = Math.min(this.t1, Math.max(this.t0, t));
    this._wall = this.now();
  }

  setSpeed(s) {
    this._base = this.time();
    this._wall = this.now();
    this.speed = s;
  }
}
