// The subset of Terraform's plugin protocol 5 (package tfplugin5) this provider speaks, plus the services go-plugin
// expects next to it (health, controller, stdio). Written as a protobufjs JSON descriptor: only the messages and fields
// used here, with the protocol's field numbers. Field names are camelCase (protobufjs' JS form); the wire only
// carries numbers.
import protobuf from 'protobufjs';

const f = (type: string, id: number, rule?: 'repeated') => (rule ? { type, id, rule } : { type, id });
const map = (keyType: string, type: string, id: number) => ({ keyType, type, id });
const empty = { fields: {} };

const diagnostics = (id: number) => f('Diagnostic', id, 'repeated');

const tfplugin5 = {
  nested: {
    DynamicValue: { fields: { msgpack: f('bytes', 1), json: f('bytes', 2) } },
    Diagnostic: {
      fields: { severity: f('int32', 1), summary: f('string', 2), detail: f('string', 3), attribute: f('AttributePath', 4) },
    },
    AttributePath: {
      fields: { steps: f('Step', 1, 'repeated') },
      nested: {
        Step: {
          oneofs: { selector: { oneof: ['attributeName', 'elementKeyString', 'elementKeyInt'] } },
          fields: { attributeName: f('string', 1), elementKeyString: f('string', 2), elementKeyInt: f('int64', 3) },
        },
      },
    },
    RawState: { fields: { json: f('bytes', 1), flatmap: map('string', 'string', 2) } },
    Schema: {
      fields: { version: f('int64', 1), block: f('Block', 2) },
      nested: {
        Block: {
          fields: {
            version: f('int64', 1),
            attributes: f('Attribute', 2, 'repeated'),
            blockTypes: f('NestedBlock', 3, 'repeated'),
            description: f('string', 4),
            descriptionKind: f('int32', 5),
            deprecated: f('bool', 6),
          },
        },
        Attribute: {
          fields: {
            name: f('string', 1),
            type: f('bytes', 2),
            description: f('string', 3),
            required: f('bool', 4),
            optional: f('bool', 5),
            computed: f('bool', 6),
            sensitive: f('bool', 7),
            descriptionKind: f('int32', 8),
            deprecated: f('bool', 9),
          },
        },
        NestedBlock: {
          fields: {
            typeName: f('string', 1),
            block: f('Block', 2),
            nesting: f('int32', 3),
            minItems: f('int64', 4),
            maxItems: f('int64', 5),
          },
        },
      },
    },
    ServerCapabilities: {
      fields: { planDestroy: f('bool', 1), getProviderSchemaOptional: f('bool', 2), moveResourceState: f('bool', 3) },
    },
    GetMetadataRequest: empty,
    GetMetadataResponse: {
      fields: {
        serverCapabilities: f('ServerCapabilities', 1),
        diagnostics: diagnostics(2),
        dataSources: f('TypeNameMetadata', 3, 'repeated'),
        resources: f('TypeNameMetadata', 4, 'repeated'),
      },
    },
    TypeNameMetadata: { fields: { typeName: f('string', 1) } },
    GetProviderSchemaRequest: empty,
    GetProviderSchemaResponse: {
      fields: {
        provider: f('Schema', 1),
        resourceSchemas: map('string', 'Schema', 2),
        dataSourceSchemas: map('string', 'Schema', 3),
        diagnostics: diagnostics(4),
        providerMeta: f('Schema', 5),
        serverCapabilities: f('ServerCapabilities', 6),
      },
    },
    PrepareProviderConfigRequest: { fields: { config: f('DynamicValue', 1) } },
    PrepareProviderConfigResponse: { fields: { preparedConfig: f('DynamicValue', 1), diagnostics: diagnostics(2) } },
    UpgradeResourceStateRequest: { fields: { typeName: f('string', 1), version: f('int64', 2), rawState: f('RawState', 3) } },
    UpgradeResourceStateResponse: { fields: { upgradedState: f('DynamicValue', 1), diagnostics: diagnostics(2) } },
    ValidateConfigRequest: { fields: { typeName: f('string', 1), config: f('DynamicValue', 2) } },
    DiagnosticsResponse: { fields: { diagnostics: diagnostics(1) } },
    ConfigureRequest: { fields: { terraformVersion: f('string', 1), config: f('DynamicValue', 2) } },
    ReadResourceRequest: {
      fields: { typeName: f('string', 1), currentState: f('DynamicValue', 2), private: f('bytes', 3), providerMeta: f('DynamicValue', 4) },
    },
    ReadResourceResponse: { fields: { newState: f('DynamicValue', 1), diagnostics: diagnostics(2), private: f('bytes', 3) } },
    PlanResourceChangeRequest: {
      fields: {
        typeName: f('string', 1),
        priorState: f('DynamicValue', 2),
        proposedNewState: f('DynamicValue', 3),
        config: f('DynamicValue', 4),
        priorPrivate: f('bytes', 5),
        providerMeta: f('DynamicValue', 6),
      },
    },
    PlanResourceChangeResponse: {
      fields: {
        plannedState: f('DynamicValue', 1),
        requiresReplace: f('AttributePath', 2, 'repeated'),
        plannedPrivate: f('bytes', 3),
        diagnostics: diagnostics(4),
      },
    },
    ApplyResourceChangeRequest: {
      fields: {
        typeName: f('string', 1),
        priorState: f('DynamicValue', 2),
        plannedState: f('DynamicValue', 3),
        config: f('DynamicValue', 4),
        plannedPrivate: f('bytes', 5),
        providerMeta: f('DynamicValue', 6),
      },
    },
    ApplyResourceChangeResponse: { fields: { newState: f('DynamicValue', 1), private: f('bytes', 2), diagnostics: diagnostics(3) } },
    ImportResourceStateRequest: { fields: { typeName: f('string', 1), id: f('string', 2) } },
    ImportResourceStateResponse: { fields: { diagnostics: diagnostics(2) } },
    ReadDataSourceRequest: { fields: { typeName: f('string', 1), config: f('DynamicValue', 2), providerMeta: f('DynamicValue', 3) } },
    ReadDataSourceResponse: { fields: { state: f('DynamicValue', 1), diagnostics: diagnostics(2) } },
    StopRequest: empty,
    StopResponse: { fields: { Error: f('string', 1) } },
  },
};

const descriptor = {
  nested: {
    tfplugin5,
    // go-plugin's own services (package "plugin").
    plugin: {
      nested: {
        Empty: empty,
        StdioData: { fields: { channel: f('int32', 1), data: f('bytes', 2) } },
      },
    },
    // grpc.health.v1: go-plugin checks the service named "plugin".
    grpc: {
      nested: {
        health: {
          nested: {
            v1: {
              nested: {
                HealthCheckRequest: { fields: { service: f('string', 1) } },
                HealthCheckResponse: { fields: { status: f('int32', 1) } },
              },
            },
          },
        },
      },
    },
  },
};

export const root = protobuf.Root.fromJSON(descriptor);

export function messageType(name: string): protobuf.Type {
  return root.lookupType(name);
}

/** Converts a decoded message to a plain object: int64 as numbers, bytes as Buffers, absent fields at defaults. */
export function toPlain(type: protobuf.Type, msg: protobuf.Message): Record<string, unknown> {
  return type.toObject(msg, { longs: Number, defaults: true, oneofs: true });
}
