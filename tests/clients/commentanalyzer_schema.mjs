// commentanalyzer_schema.mjs - the response schemas of Perspective's commentanalyzer v1alpha1, as
// its discovery document (https://commentanalyzer.googleapis.com/$discovery/rest?version=v1alpha1,
// mirrored as OpenAPI in APIs-guru/openapi-directory) publishes them, and a checker that reports
// every field whose name or type is not the published one. Unknown fields are errors too: a
// client generated from the discovery document would not know them.

const SCORE_TYPES = ['SCORE_TYPE_UNSPECIFIED', 'PROBABILITY', 'STD_DEV_SCORE', 'PERCENTILE', 'RAW'];

export const schemas = {
  AnalyzeCommentResponse: {
    type: 'object',
    properties: {
      attributeScores: { type: 'object', additionalProperties: { $ref: 'AttributeScores' } },
      clientToken: { type: 'string' },
      detectedLanguages: { type: 'array', items: { type: 'string' } },
      languages: { type: 'array', items: { type: 'string' } },
    },
  },
  AttributeScores: {
    type: 'object',
    properties: {
      spanScores: { type: 'array', items: { $ref: 'SpanScore' } },
      summaryScore: { $ref: 'Score' },
    },
  },
  SpanScore: {
    type: 'object',
    properties: {
      begin: { type: 'integer', format: 'int32' },
      end: { type: 'integer', format: 'int32' },
      score: { $ref: 'Score' },
    },
  },
  Score: {
    type: 'object',
    properties: {
      type: { type: 'string', enum: SCORE_TYPES },
      value: { type: 'number', format: 'float' },
    },
  },
  SuggestCommentScoreResponse: {
    type: 'object',
    properties: {
      clientToken: { type: 'string' },
      detectedLanguages: { type: 'array', items: { type: 'string' } },
      requestedLanguages: { type: 'array', items: { type: 'string' } },
    },
  },
  // Google APIs' error body (google.rpc.Status in JSON), which Perspective answers with.
  ErrorResponse: {
    type: 'object',
    properties: { error: { $ref: 'Status' } },
    required: ['error'],
  },
  Status: {
    type: 'object',
    properties: {
      code: { type: 'integer', format: 'int32' },
      message: { type: 'string' },
      status: { type: 'string' },
      details: { type: 'array', items: { type: 'object' } },
    },
    required: ['code', 'message', 'status'],
  },
};

/* Returns the list of problems (empty when value conforms to schema `name`). */
export function check(name, value) {
  const problems = [];
  walk({ $ref: name }, value, name, problems);
  return problems;
}

function walk(s, v, where, problems) {
  if (s.$ref) s = schemas[s.$ref];
  switch (s.type) {
    case 'object': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        problems.push(`${where}: expected an object, got ${JSON.stringify(v)}`);
        return;
      }
      for (const r of s.required || [])
        if (!(r in v)) problems.push(`${where}.${r}: required`);
      for (const [k, x] of Object.entries(v)) {
        if (s.properties && k in s.properties) walk(s.properties[k], x, `${where}.${k}`, problems);
        else if (s.additionalProperties) walk(s.additionalProperties, x, `${where}[${k}]`, problems);
        else if (s.properties) problems.push(`${where}.${k}: not a field of the schema`);
      }
      return;
    }
    case 'array':
      if (!Array.isArray(v)) {
        problems.push(`${where}: expected an array`);
        return;
      }
      v.forEach((x, i) => walk(s.items, x, `${where}[${i}]`, problems));
      return;
    case 'string':
      if (typeof v !== 'string') problems.push(`${where}: expected a string`);
      else if (s.enum && !s.enum.includes(v)) problems.push(`${where}: ${v} is not one of ${s.enum}`);
      return;
    case 'integer':
      if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31)
        problems.push(`${where}: expected an int32, got ${v}`);
      return;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) problems.push(`${where}: expected a number`);
      return;
    default:
      problems.push(`${where}: schema has no type`);
  }
}
