// A pull that cannot finish: one line saying which request failed and why, in terms the
// operator can act on (the token, a permission, the URL, the certificate, the schema).

export class PullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PullError";
  }
}
