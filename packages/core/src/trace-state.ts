/** Placeholder until the W3C list rules land. */
export class TraceState {}
