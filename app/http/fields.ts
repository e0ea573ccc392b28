/**
 * The field lines of a message's header or trailer section (RFC 9110 §5).
 */

/**
 * An ordered list of field lines with case-insensitive lookup. Field-names
 * are stored lower-cased; values are stored as received, OWS trimmed
 * (RFC 9110 §5.5). The one header-lookup helper of the project.
 */
export class Fields {
  /** Lower-cased field-names, in arrival order. */
  readonly names: string[] = [];
  /** Field values, parallel to {@link names}. */
  readonly values: string[] = [];

  /** Appends one field line. `name` must already be lower-case. */
  append(name: string, value: string): void {
    this.names.push(name);
    this.values.push(value);
  }

  /** Number of field lines. */
  get size(): number {
    return this.names.length;
  }

  /**
   * The field value for `name` (lower-case). When the field occurs on
   * several lines, the values are combined with ", " as RFC 9110 §5.3
   * allows for list-based fields. `undefined` when absent.
   */
  get(name: string): string | undefined {
    let found: string | undefined;
    const names = this.names;
    for (let i = 0; i < names.length; i++) {
      if (names[i] === name) found = found === undefined ? this.values[i] : `${found}, ${this.values[i]}`;
    }
    return found;
  }

  /** Every value of `name` (lower-case), one per field line, in order. */
  getAll(name: string): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.names.length; i++) if (this.names[i] === name) out.push(this.values[i]!);
    return out;
  }

  /** True when at least one field line carries `name` (lower-case). */
  has(name: string): boolean {
    return this.names.includes(name);
  }
}
