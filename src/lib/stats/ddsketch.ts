/**
 * DDSketch (Masson, Rim, Lee: "DDSketch: a fast and fully-mergeable quantile sketch with
 * relative-error guarantees", VLDB 2019): quantiles of non-negative values with a bounded
 * relative error, mergeable, in memory that grows with the logarithm of the value range.
 *
 * A value x > 0 goes into bucket i = ceil(log_gamma(x)) with gamma = (1 + a) / (1 - a); every value
 * in bucket i lies in (gamma^(i-1), gamma^i], and the bucket reports 2 * gamma^i / (gamma + 1),
 * which is within a relative error `a` of each of them. Values at or below `minValue` count as
 * zero. When more than `maxBuckets` buckets would be needed, the lowest ones are merged, which
 * only costs accuracy at the low end (the quantiles an operator watches, p50 to p99, are not there).
 */

export interface DDSketchOptions {
  /** The relative error of every quantile, e.g. 0.01 for 1%. */
  relativeAccuracy?: number
  maxBuckets?: number
  /** Values at or below this count as zero. */
  minValue?: number
}

export class DDSketch {
  readonly relativeAccuracy: number
  readonly #gamma: number
  readonly #logGamma: number
  readonly #maxBuckets: number
  readonly #minValue: number
  /** counts[k] is bucket (offset + k). */
  #counts: Float64Array
  #offset = 0
  /** Buckets in use: counts[0 .. used). */
  #used = 0
  #zeroCount = 0
  #count = 0
  #sum = 0
  #min = Number.POSITIVE_INFINITY
  #max = Number.NEGATIVE_INFINITY

  constructor(options: DDSketchOptions = {}) {
    const accuracy = options.relativeAccuracy ?? 0.01
    if (!(accuracy > 0 && accuracy < 1)) throw new RangeError(`relativeAccuracy must be between 0 and 1, not ${accuracy}`)
    this.relativeAccuracy = accuracy
    this.#gamma = (1 + accuracy) / (1 - accuracy)
    this.#logGamma = Math.log(this.#gamma)
    this.#maxBuckets = options.maxBuckets ?? 2048
    this.#minValue = options.minValue ?? 1e-9
    this.#counts = new Float64Array(64)
  }

  get count(): number {
    return this.#count
  }

  get sum(): number {
    return this.#sum
  }

  get min(): number | undefined {
    return this.#count === 0 ? undefined : this.#min
  }

  get max(): number | undefined {
    return this.#count === 0 ? undefined : this.#max
  }

  /** Adds a value `weight` times. Negative values and NaN are refused: durations cannot be negative. */
  add(value: number, weight = 1): void {
    if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`DDSketch takes non-negative finite values, not ${value}`)
    this.#count += weight
    this.#sum += value * weight
    if (value < this.#min) this.#min = value
    if (value > this.#max) this.#max = value
    if (value <= this.#minValue) {
      this.#zeroCount += weight
      return
    }

    this.#addToBucket(Math.ceil(Math.log(value) / this.#logGamma), weight)
  }

  /** The value at quantile q (0 ≤ q ≤ 1), within the relative accuracy; undefined when empty. */
  quantile(q: number): number | undefined {
    if (this.#count === 0) return undefined
    if (!(q >= 0 && q <= 1)) throw new RangeError(`a quantile is between 0 and 1, not ${q}`)
    // The rank of the value wanted, 0-based, as in the paper: floor(q * (n - 1)).
    const rank = Math.floor(q * (this.#count - 1))
    if (q === 0) return this.#min
    if (q === 1) return this.#max
    let seen = this.#zeroCount
    if (rank < seen) return 0
    for (let k = 0; k < this.#used; k++) {
      seen += this.#counts[k]!
      if (rank < seen) return this.#clamp(this.#bucketValue(this.#offset + k))
    }

    return this.#max
  }

  /** Adds another sketch's values into this one. Both must have the same relative accuracy. */
  merge(other: DDSketch): void {
    if (other.relativeAccuracy !== this.relativeAccuracy) throw new RangeError('only sketches of the same relative accuracy merge')
    if (other.#count === 0) return
    this.#count += other.#count
    this.#sum += other.#sum
    this.#zeroCount += other.#zeroCount
    if (other.#min < this.#min) this.#min = other.#min
    if (other.#max > this.#max) this.#max = other.#max
    for (let k = 0; k < other.#used; k++) {
      const weight = other.#counts[k]!
      if (weight > 0) this.#addToBucket(other.#offset + k, weight)
    }
  }

  /** How many buckets hold values: what the sketch's memory grows with. */
  get bucketCount(): number {
    let buckets = 0
    for (let k = 0; k < this.#used; k++) if (this.#counts[k]! > 0) buckets += 1
    return buckets
  }

  clear(): void {
    this.#counts.fill(0)
    this.#offset = 0
    this.#used = 0
    this.#zeroCount = 0
    this.#count = 0
    this.#sum = 0
    this.#min = Number.POSITIVE_INFINITY
    this.#max = Number.NEGATIVE_INFINITY
  }

  #bucketValue(index: number): number {
    return (2 * this.#gamma ** index) / (this.#gamma + 1)
  }

  /** A bucket's value never goes outside what was seen (it matters for a sketch of one value). */
  #clamp(value: number): number {
    return Math.min(Math.max(value, this.#min), this.#max)
  }

  #addToBucket(index: number, weight: number): void {
    if (this.#used === 0) {
      this.#offset = index
      this.#used = 1
      this.#counts[0] = weight
      return
    }

    if (index < this.#offset) {
      // Below the lowest bucket: shift up, or fold into the lowest bucket once at the limit.
      const room = this.#maxBuckets - this.#used
      if (room <= 0) {
        this.#counts[0] = this.#counts[0]! + weight
        return
      }

      const shift = Math.min(this.#offset - index, room)
      this.#ensureCapacity(this.#used + shift)
      this.#counts.copyWithin(shift, 0, this.#used)
      this.#counts.fill(0, 0, shift)
      this.#offset -= shift
      this.#used += shift
      const k = Math.max(0, index - this.#offset)
      this.#counts[k] = this.#counts[k]! + weight
      return
    }

    let k = index - this.#offset
    if (k >= this.#used) {
      const needed = k + 1
      if (needed > this.#maxBuckets) {
        // Above the limit: merge the lowest buckets into one to make room at the top.
        const drop = needed - this.#maxBuckets
        let folded = 0
        for (let j = 0; j <= drop && j < this.#used; j++) folded += this.#counts[j]!
        this.#counts.copyWithin(0, drop, this.#used)
        this.#counts.fill(0, this.#used - drop, this.#used)
        this.#counts[0] = folded
        this.#offset += drop
        this.#used -= drop
        k -= drop
      }

      this.#ensureCapacity(k + 1)
      this.#used = Math.max(this.#used, k + 1)
    }

    this.#counts[k] = this.#counts[k]! + weight
  }

  #ensureCapacity(length: number): void {
    if (length <= this.#counts.length) return
    let size = this.#counts.length
    while (size < length) size *= 2
    const counts = new Float64Array(Math.min(size, Math.max(length, this.#maxBuckets)))
    counts.set(this.#counts.subarray(0, this.#used))
    this.#counts = counts
  }
}
