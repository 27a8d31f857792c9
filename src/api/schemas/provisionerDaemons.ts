// The shapes are defined once in the SDK; these names are what routes import.
export { ProvisionerDaemon as provisionerDaemonSchema } from '../../sdk/types/provisionerDaemons.js';
export {
  CreateProvisionerKeyRequest as createProvisionerKeyBody,
  ProvisionerKey as provisionerKeySchema,
  Replica as replicaSchema,
} from '../../sdk/types/provisionerKeys.js';
