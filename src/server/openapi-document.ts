/**
 * The OpenAPI 3.1 document of the HTTP API, written by hand after API.md (the contract). Served at
 * `GET /api/openapi.json`.
 */

const json = (schema: object): object => ({ 'application/json': { schema } });
const ref = (name: string): object => ({ $ref: `#/components/schemas/${name}` });
const errorReply = (description: string): object => ({ description, content: json(ref('Error')) });
const sessionId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

const errors = {
  '400': errorReply('The request does not fit the contract (`invalid_request`), or a bad value (`bad_input`).'),
  '401': errorReply('No token, or a wrong one (`unauthorized`).'),
  '403': errorReply('Without a token: a page of another site, or a host that is not this machine (`forbidden`).'),
};
const unknownSession = { '404': errorReply('No such session (`not_found`).') };
const memoryId = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^m-[0-9a-f]{6}$' } };
const memoryNote = {
  type: 'object',
  required: ['id', 'note', 'kind', 'status', 'origin'],
  properties: { id: { type: 'string' }, note: { type: 'string' }, kind: { type: 'string' }, status: { enum: ['pending', 'saved'] }, origin: { type: 'object' }, confirmedAt: { type: 'string' } },
};

export function openApiDocument(version: string): object {
  return {
    openapi: '3.1.0',
    info: {
      title: 'iquery',
      version,
      description: 'A self-hosted AI data analyst. Every /api route but GET /api/health takes `Authorization: Bearer <token>` when the server has a token.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths: {
      '/api/health': {
        get: {
          summary: 'Whether the server runs, on which data, with which analyst',
          security: [],
          responses: { '200': { description: 'ok', content: json(ref('Health')) } },
        },
      },
      '/api/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) }, ...errors } } },
      '/api/sessions': {
        get: {
          summary: 'The sessions, oldest first',
          responses: { '200': { description: 'ok', content: json({ type: 'object', required: ['sessions'], properties: { sessions: { type: 'array', items: ref('SessionSummary') } } }) }, ...errors },
        },
        post: {
          summary: 'Start a session',
          requestBody: { required: false, content: json({ type: 'object', additionalProperties: false }) },
          responses: { '201': { description: 'created', content: json(ref('SessionSummary')) }, ...errors },
        },
      },
      '/api/sessions/{id}': {
        parameters: [sessionId],
        get: { summary: 'A session with its turns', responses: { '200': { description: 'ok', content: json(ref('Session')) }, ...errors, ...unknownSession } },
        delete: { summary: 'Stop and delete a session (its folder too)', responses: { '204': { description: 'deleted' }, ...errors, ...unknownSession } },
      },
      '/api/sessions/{id}/messages': {
        parameters: [sessionId],
        post: {
          summary: 'Ask a question; the answer streams as server-sent events',
          description:
            'Events (`event:` is the type, `data:` its JSON): plan {steps}; output {kind: text|step|note, …}; code {id, tool, language, code, findings}; ' +
            'approval_request (same shape: the run waits for POST /approvals); share_request {id, columns, rows, preview} (schema-only: share or withhold an aggregate); ' +
            'plan_review {id, steps} (expert mode: the plan before anything runs); table {columns, rows, truncated}; chart {type, title, x?, y?, series?, data}; ' +
            'answer (the whole result, as `iquery ask --json` prints it); error {code, message, hint?}; done {status} (always last).',
          requestBody: { required: true, content: json(ref('Message')) },
          responses: {
            '200': { description: 'the event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
            ...errors,
            ...unknownSession,
            '409': errorReply('A message or an upload is already running in this session (`session_busy`).'),
          },
        },
      },
      '/api/sessions/{id}/approvals': {
        parameters: [sessionId],
        post: {
          summary: 'Answer an approval request of the running message',
          requestBody: { required: true, content: json(ref('Approval')) },
          responses: {
            '202': { description: 'accepted', content: json({ type: 'object', properties: { ok: { const: true } } }) },
            ...errors,
            '404': errorReply('No such session, or no such request waits (`no_such_approval`).'),
          },
        },
      },
      '/api/sessions/{id}/files': {
        parameters: [sessionId],
        get: {
          summary: "The session's files: uploads, charts, figures, reports",
          responses: {
            '200': {
              description: 'ok',
              content: json({ type: 'object', properties: { files: { type: 'array', items: { type: 'object', required: ['path', 'bytes', 'modified'], properties: { path: { type: 'string' }, bytes: { type: 'integer' }, modified: { type: 'string', format: 'date-time' } } } } } }),
            },
            ...errors,
            ...unknownSession,
          },
        },
        post: {
          summary: 'Upload a data file; from then on the session questions its uploads',
          requestBody: {
            required: true,
            content: { 'multipart/form-data': { schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary', description: 'CSV, TSV, Excel .xlsx, Parquet or JSON; at most 200 MB' } } } } },
          },
          responses: {
            '201': { description: 'stored', content: json({ type: 'object', required: ['name', 'bytes', 'table'], properties: { name: { type: 'string' }, bytes: { type: 'integer' }, table: { type: 'string' } } }) },
            ...errors,
            ...unknownSession,
            '409': errorReply('The session is busy (`session_busy`).'),
            '413': errorReply('Larger than 200 MB (`too_large`).'),
          },
        },
      },
      '/api/sessions/{id}/files/{path}': {
        parameters: [sessionId, { name: 'path', in: 'path', required: true, schema: { type: 'string' }, description: 'a path from the file list; may hold `/`' }],
        get: {
          summary: "A file's bytes (content type from the extension)",
          responses: { '200': { description: 'the file', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } }, ...errors, '404': errorReply('No such session or file (`not_found`).') },
        },
      },
      '/api/sessions/{id}/reports': {
        parameters: [sessionId],
        post: {
          summary: "Write the analysis report of the session's last turn into its folder (report.json, .md, .html, and .pdf with Chromium)",
          responses: {
            '201': {
              description: 'written',
              content: json({
                type: 'object',
                required: ['path', 'format', 'files', 'warnings'],
                properties: { path: { type: 'string', description: 'the Markdown file' }, format: { const: 'markdown' }, files: { type: 'array', items: { type: 'string' } }, warnings: { type: 'array', items: { type: 'string' } } },
              }),
            },
            ...errors,
            ...unknownSession,
            '409': errorReply('No turn has finished yet (`nothing_to_report`).'),
          },
        },
      },
      '/api/memory': {
        get: {
          summary: 'Long-term notes: those the agent proposed (pending) and those confirmed (saved)',
          parameters: [{ name: 'status', in: 'query', required: false, schema: { enum: ['pending', 'saved', 'all'], default: 'all' } }],
          responses: { '200': { description: 'ok', content: json({ type: 'object', required: ['notes'], properties: { notes: { type: 'array', items: memoryNote } } }) }, ...errors },
        },
      },
      '/api/memory/{id}/confirm': {
        parameters: [memoryId],
        post: {
          summary: 'Confirm a proposed note: later questions use it',
          responses: { '200': { description: 'saved', content: json({ type: 'object', required: ['note'], properties: { note: memoryNote } }) }, ...errors, '404': errorReply('No such note (`not_found`).') },
        },
      },
      '/api/memory/{id}': {
        parameters: [memoryId],
        delete: {
          summary: 'Discard a note, proposed or saved',
          responses: { '200': { description: 'deleted', content: json({ type: 'object', required: ['note'], properties: { note: memoryNote } }) }, ...errors, '404': errorReply('No such note (`not_found`).') },
        },
      },
      '/api/dictionary': {
        get: {
          summary: 'The dictionary new sessions read',
          responses: {
            '200': {
              description: 'ok',
              content: json({
                type: 'object',
                required: ['yaml', 'dictionary'],
                properties: {
                  yaml: { type: 'string' },
                  dictionary: { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' }, tables: { type: 'array', items: { type: 'object' } }, metrics: { type: 'array', items: { type: 'object' } } } },
                  file: { type: 'string' },
                },
              }),
            },
            ...errors,
          },
        },
        put: {
          summary: 'Replace the dictionary (validated by parsing; saved to its file; sessions started later read it)',
          requestBody: { required: true, content: json({ type: 'object', required: ['yaml'], properties: { yaml: { type: 'string' } }, additionalProperties: false }) },
          responses: {
            '200': { description: 'saved', content: json({ type: 'object', required: ['version'], properties: { version: { type: 'string' } } }) },
            ...errors,
            '422': {
              description: 'The YAML is not a valid dictionary (`dictionary_invalid`)',
              content: json({
                allOf: [ref('Error')],
                properties: { problems: { type: 'array', items: { type: 'object', required: ['message'], properties: { line: { type: 'integer' }, column: { type: 'integer' }, message: { type: 'string' } } } } },
              }),
            },
          },
        },
      },
      '/mcp': {
        post: { summary: 'The MCP server over streamable HTTP (same tools as `iquery mcp`)', responses: { '200': { description: 'an MCP response' }, ...errors } },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' } } } },
        },
        Health: {
          type: 'object',
          required: ['status', 'version', 'data', 'analyst'],
          properties: { status: { const: 'ok' }, version: { type: 'string' }, data: { type: 'string' }, analyst: { enum: ['agent', 'offline'] }, model: { type: 'string' } },
        },
        SessionSummary: {
          type: 'object',
          required: ['id', 'createdAt', 'title', 'turns'],
          properties: { id: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' }, title: { type: 'string' }, turns: { type: 'integer' } },
        },
        Session: {
          type: 'object',
          required: ['id', 'createdAt', 'title', 'turns'],
          properties: { id: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' }, title: { type: 'string' }, turns: { type: 'array', items: ref('Turn') } },
        },
        Turn: {
          type: 'object',
          required: ['question', 'status', 'answer', 'analyst', 'steps', 'sql', 'files'],
          properties: {
            question: { type: 'string' },
            status: { type: 'string', description: 'running, answered, abstained, needs_approval, stopped or error' },
            answer: { type: 'string' },
            analyst: { enum: ['agent', 'offline'] },
            steps: { type: 'array', items: { type: 'object', properties: { index: { type: 'integer' }, tool: { type: 'string' }, input: {}, status: { type: 'string' }, output: { type: 'string' } } } },
            sql: { type: ['string', 'null'] },
            table: { type: 'object', properties: { columns: { type: 'array', items: { type: 'string' } }, rows: { type: 'array', items: { type: 'array' } }, truncated: { type: 'boolean' } } },
            chart: { type: 'object' },
            files: { type: 'array', items: { type: 'string' } },
          },
        },
        Message: {
          type: 'object',
          required: ['question'],
          additionalProperties: false,
          properties: { question: { type: 'string', minLength: 1, maxLength: 4000 }, offline: { type: 'boolean', description: 'answer with the offline analyst even when a model is configured' } },
        },
        Approval: {
          type: 'object',
          required: ['id', 'action'],
          additionalProperties: false,
          properties: {
            id: { type: 'string', description: 'the id of an approval_request, share_request or plan_review' },
            action: { enum: ['run', 'edit', 'skip', 'run_all'] },
            code: { type: 'string', description: 'edit of code: the code to run instead' },
            plan: { type: 'array', items: { type: 'string' }, description: 'edit of a plan review: the steps to follow instead' },
          },
        },
      },
    },
  };
}
