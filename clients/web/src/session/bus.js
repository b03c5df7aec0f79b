// The session's event bus: how one part of the review session tells the others what happened,
// without importing them. app.js documents the events; a feature subscribes to what it needs.
//
//   welcome (w)            the server accepted us (first join or resume)
//   state (view)           the room's durable state changed (mirror view)
//   mode (id)              the pointer tool changed (select, annotate, measure, move, rotate)
//   select (part|null)     the selected part changed
//   level (level, last)    a model level (or the tiled root) is on screen
//   unload ()              the displayed model is about to be replaced
//   frame (poses)          a frame is drawn; poses: remote sessions' interpolated poses

export class Bus {
  constructor() {
    this.handlers = new Map();
  }

  /** Subscribe; returns the function that unsubscribes. Handlers run in subscription order. */
  on(event, fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, []);
    this.handlers.get(event).push(fn);
    return () => {
      const list = this.handlers.get(event);
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

  emit(event, ...args) {
    for (const fn of [...(this.handlers.get(event) ?? [])]) fn(...args);
  }
}
