// The shapes are defined once in the SDK; these names are what routes import.
export {
  CreateFirstUserRequest as createFirstUserBody,
  CreateFirstUserResponse as createFirstUserResponse,
  CreateUserRequest as createUserBody,
  GenerateAPIKeyResponse as generateApiKeyResponse,
  LoginWithPasswordRequest as loginBody,
  LoginWithPasswordResponse as loginResponse,
  Organization as organizationSchema,
  Role as roleSchema,
  User as userSchema,
} from '../../sdk/types/users.js';
