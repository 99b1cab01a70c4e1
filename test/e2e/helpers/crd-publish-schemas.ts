// The schemas of upstream's crd_publish_openapi.go (schemaFoo, schemaWaldo, schemaPreserveRoot,
// schemaPreserveNested) as JSON values, for the CustomResourcePublishOpenAPI mirrors.
export type Schema = Record<string, unknown>;

export const schemaFoo: Schema = {
  description: 'Foo CRD for Testing',
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      description: 'Specification of Foo',
      properties: {
        bars: {
          description: 'List of Bars and their specs.',
          type: 'array',
          items: {
            type: 'object',
            required: ['name'],
            properties: {
              name: { description: 'Name of Bar.', type: 'string' },
              age: { description: 'Age of Bar.', type: 'string' },
              feeling: { description: 'Whether Bar is feeling great.', type: 'string', enum: ['Great', 'Down'] },
              bazs: { description: 'List of Bazs.', items: { type: 'string' }, type: 'array' },
            },
          },
        },
      },
    },
    status: {
      description: 'Status of Foo',
      type: 'object',
      properties: {
        bars: {
          description: 'List of Bars and their statuses.',
          type: 'array',
          items: {
            type: 'object',
            properties: {
              name: { description: 'Name of Bar.', type: 'string' },
              available: { description: 'Whether the Bar is installed.', type: 'boolean' },
              quxType: { description: 'Indicates to external qux type.', pattern: 'in-tree|out-of-tree', type: 'string' },
            },
          },
        },
      },
    },
  },
};

const waldoParts = {
  spec: { description: 'Specification of Waldo', type: 'object', properties: { dummy: { description: 'Dummy property.', type: 'object' } } },
  status: {
    description: 'Status of Waldo',
    type: 'object',
    properties: { bars: { description: 'List of Bars and their statuses.', type: 'array', items: { type: 'object' } } },
  },
};
export const schemaPreserveRoot: Schema = {
  description: 'preserve-unknown-properties at root for Testing',
  'x-kubernetes-preserve-unknown-fields': true,
  type: 'object',
  properties: waldoParts,
};
export const schemaPreserveNested: Schema = {
  description: 'preserve-unknown-properties in nested field for Testing',
  type: 'object',
  properties: { ...waldoParts, spec: { ...waldoParts.spec, 'x-kubernetes-preserve-unknown-fields': true } },
};

export const schemaWaldo: Schema = { description: 'Waldo CRD for Testing', type: 'object', properties: waldoParts };
