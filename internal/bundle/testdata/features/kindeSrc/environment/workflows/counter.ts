export class Counter {
  #total = 0;
  static created = 0;
  get total() {
    return this.#total;
  }
  add(n: number) {
    this.#total += n;
    Counter.created ??= 0;
  }
}
