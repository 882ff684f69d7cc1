import type { Scene, Shape } from './scene.js';

// Characters XML 1.0 does not allow at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF).
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text for XML content or a quoted attribute: escaped, and without characters XML cannot hold. */
export function escapeXml(text: string): string {
  return text.replace(NOT_XML, '\uFFFD').replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

const STYLE = `
text{font-family:'DejaVu Sans Mono',monospace;font-size:11px;fill:#222}
.h1{font-size:15px;font-weight:bold}.h2{font-size:11px;fill:#444}
.small{font-size:9px;fill:#444}.pkg{font-size:9px;fill:#123}
.phase{font-weight:bold}.step.bad,.label.bad{fill:#b00}.step.none{fill:#999}.note{fill:#7a4a00}
.band-a{fill:#f6f7f9}.band-b{fill:#eceef2}.phase-span{fill:#8a94a6}
.tick{stroke:#d6d9de;stroke-width:1}.axis{stroke:#555;stroke-width:1}
.a-done{fill:#3f9a5b}.a-failed{fill:#d33;stroke:#700;stroke-width:1}.a-interrupted{fill:#e8a33c}
.a-running{fill:#3b82c4}.a-lost{fill:#999;stroke:#555;stroke-dasharray:2 2}
.p-done{fill:#9ccfe8;stroke:#4e8fb0;stroke-width:.5}.p-group{fill:#c9d3dc;stroke:#7d8a96;stroke-width:.5}
.p-failed{fill:#f08080;stroke:#b00;stroke-width:1}.p-running{fill:#b9d7f0;stroke:#3b82c4;stroke-dasharray:2 1}
.pause{fill:url(#hatch)}.pause-short{fill:#fff3d6;opacity:.7}
`;

function num(n: number): string {
  return String(Math.round(n * 10) / 10);
}

function shape(s: Shape): string {
  const title = 'title' in s && s.title !== undefined ? `<title>${escapeXml(s.title)}</title>` : '';
  switch (s.type) {
    case 'rect': {
      const attrs = `x="${num(s.x)}" y="${num(s.y)}" width="${num(s.w)}" height="${num(s.h)}" class="${escapeXml(s.cls)}"`;
      return title ? `<rect ${attrs}>${title}</rect>` : `<rect ${attrs}/>`;
    }
    case 'text': {
      const anchor = s.anchor && s.anchor !== 'start' ? ` text-anchor="${s.anchor}"` : '';
      return `<text x="${num(s.x)}" y="${num(s.y)}" class="${escapeXml(s.cls)}"${anchor}>${title}${escapeXml(s.text)}</text>`;
    }
    case 'line':
      return `<line x1="${num(s.x1)}" y1="${num(s.y1)}" x2="${num(s.x2)}" y2="${num(s.y2)}" class="${escapeXml(s.cls)}"/>`;
  }
}

/** One self-contained SVG document: no scripts, fonts or links outside it. */
export function renderSvg(scene: Scene): string {
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${scene.width}" height="${scene.height}" viewBox="0 0 ${scene.width} ${scene.height}">`,
    `<title>${escapeXml(scene.title)}</title>`,
    `<style>${STYLE}</style>`,
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff3d6"/><line x1="0" y1="0" x2="0" y2="6" stroke="#e0b860" stroke-width="2"/></pattern></defs>',
    `<rect width="${scene.width}" height="${scene.height}" fill="#fff"/>`,
    ...scene.shapes.map(shape),
    '</svg>',
    '',
  ];
  return out.join('\n');
}
