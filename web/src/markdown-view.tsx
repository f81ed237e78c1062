/**
 * The Markdown of a report, drawn as React elements (never as HTML, so nothing in it can run): the
 * blocks reports use (headings, paragraphs, lists, fenced code, pipe tables) and inline `code` and
 * **bold**. Anything else reads as plain text.
 */
import type { ReactNode } from 'react';

type Block =
  | { kind: 'heading'; level: number; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; ordered: boolean; items: string[] }
  | { kind: 'code'; language: string; code: string }
  | { kind: 'table'; header: string[]; rows: string[][] };

const listItem = /^\s*(?:([-*+])|(\d+)[.)])\s+(.*)$/;

/** A pipe-table row's cells; `\|` is a pipe inside a cell. */
function cells(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '');
  return inner.split(/(?<!\\)\|/).map((cell) => cell.trim().replaceAll('\\|', '|'));
}

function parseMarkdown(markdown: string): Block[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: Block[] = [];
  let index = 0;
  while (index < lines.length) {
    const line = lines[index] ?? '';
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const fence = /^```\s*(\S*)/.exec(line);
    if (line.trim() === '') {
      index += 1;
    } else if (heading !== null) {
      blocks.push({ kind: 'heading', level: heading[1]?.length ?? 1, text: heading[2] ?? '' });
      index += 1;
    } else if (fence !== null) {
      const code: string[] = [];
      index += 1;
      while (index < lines.length && !(lines[index] ?? '').startsWith('```')) code.push(lines[index++] ?? '');
      index += 1;
      blocks.push({ kind: 'code', language: fence[1] ?? '', code: code.join('\n') });
    } else if (line.trim().startsWith('|') && /^\s*\|?\s*:?-{3,}/.test(lines[index + 1] ?? '')) {
      const header = cells(line);
      const rows: string[][] = [];
      index += 2;
      while (index < lines.length && (lines[index] ?? '').trim().startsWith('|')) rows.push(cells(lines[index++] ?? ''));
      blocks.push({ kind: 'table', header, rows });
    } else if (listItem.test(line)) {
      const ordered = listItem.exec(line)?.[2] !== undefined;
      const items: string[] = [];
      while (index < lines.length && listItem.test(lines[index] ?? '')) items.push(listItem.exec(lines[index++] ?? '')?.[3] ?? '');
      blocks.push({ kind: 'list', ordered, items });
    } else {
      // The first line always belongs here (a lone `| ...` that starts no table, too), so the loop advances.
      const text: string[] = [line];
      index += 1;
      while (index < lines.length && (lines[index] ?? '').trim() !== '' && !/^(#{1,6}\s|```|\s*\|)/.test(lines[index] ?? '') && !listItem.test(lines[index] ?? '')) {
        text.push(lines[index++] ?? '');
      }
      blocks.push({ kind: 'paragraph', text: text.join('\n') });
    }
  }
  return blocks;
}

/** Inline `code` and **bold**; the rest as text. */
function inline(text: string): ReactNode[] {
  return text.split(/(`[^`]+`|\*\*[^*]+\*\*)/).map((part, index) => {
    if (part.startsWith('`') && part.endsWith('`') && part.length > 1) return <code key={index}>{part.slice(1, -1)}</code>;
    if (part.startsWith('**') && part.endsWith('**') && part.length > 3) return <strong key={index}>{part.slice(2, -2)}</strong>;
    return part;
  });
}

function renderBlock(block: Block, key: number): ReactNode {
  switch (block.kind) {
    case 'heading': {
      const Heading = `h${Math.min(6, block.level + 1)}` as 'h2';
      return <Heading key={key}>{inline(block.text)}</Heading>;
    }
    case 'paragraph':
      return <p key={key}>{inline(block.text)}</p>;
    case 'list': {
      const List = block.ordered ? 'ol' : 'ul';
      return (
        <List key={key}>
          {block.items.map((item, index) => (
            <li key={index}>{inline(item)}</li>
          ))}
        </List>
      );
    }
    case 'code':
      return (
        <pre key={key} className="markdown-code">
          <code>{block.code}</code>
        </pre>
      );
    case 'table':
      return (
        <div key={key} className="table-scroll">
          <table>
            <thead>
              <tr>
                {block.header.map((cell, index) => (
                  <th key={index}>{inline(cell)}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {block.rows.map((row, rowIndex) => (
                <tr key={rowIndex}>
                  {row.map((cell, index) => (
                    <td key={index}>{inline(cell)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
  }
}

export function MarkdownView({ markdown }: { markdown: string }) {
  return <div className="markdown">{parseMarkdown(markdown).map(renderBlock)}</div>;
}
