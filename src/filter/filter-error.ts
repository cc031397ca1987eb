// The one error the filter throws, at build time only (never on the hot path): a
// compiled policy it cannot turn into tables. `path` names the offending field, e.g.
// "inbound[3].sources[1]", so the message leads straight to the bad value.

export class FilterError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = "FilterError";
  }
}
