/** What layout draws and svg.ts writes: boxes, text and lines in pixels, each with a CSS class. */
export type Shape =
  | { type: 'rect'; x: number; y: number; w: number; h: number; cls: string; title?: string }
  | { type: 'text'; x: number; y: number; text: string; cls: string; anchor?: 'start' | 'middle' | 'end'; title?: string }
  | { type: 'line'; x1: number; y1: number; x2: number; y2: number; cls: string };

export interface Scene {
  width: number;
  height: number;
  /** The document's title. */
  title: string;
  shapes: Shape[];
}
