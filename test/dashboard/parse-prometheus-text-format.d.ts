declare module 'parse-prometheus-text-format' {
  /** One sample as prom2json gives it: values as strings. */
  export interface ParsedSample {
    readonly labels?: Record<string, string>;
    readonly value?: string;
    readonly quantiles?: Record<string, string>;
    readonly buckets?: Record<string, string>;
    readonly count?: string;
    readonly sum?: string;
  }
  export interface ParsedFamily {
    readonly name: string;
    readonly help: string;
    readonly type: 'COUNTER' | 'GAUGE' | 'SUMMARY' | 'HISTOGRAM' | 'UNTYPED';
    readonly metrics: readonly ParsedSample[];
  }
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
