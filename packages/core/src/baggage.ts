/** Placeholder until W3C Baggage lands. */
export class Baggage {}
