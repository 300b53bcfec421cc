// What a request is, for error messages and traces ("GET 1.0.32.7.0.255 class 3 attr 2"). Nearly every request
// succeeds without needing its description, so it may be an object that builds its text on first use: messages
// interpolate it (`${what}` calls toString()) and get the same text as from a string.

export type What = string | LazyText;

export abstract class LazyText {
  private text: string | undefined;

  protected abstract build(): string;

  toString(): string {
    if (this.text === undefined) this.text = this.build();
    return this.text;
  }
}
