// Types for json-source-map 0.6 (the package ships none). Lines and columns are 0-based.
declare module 'json-source-map' {
  export interface Location { line: number; column: number; pos: number }
  export interface PointerLocations { key?: Location; keyEnd?: Location; value: Location; valueEnd: Location }
  export function parse(source: string): { data: unknown; pointers: Record<string, PointerLocations> };
}
