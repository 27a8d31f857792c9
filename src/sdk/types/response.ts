/** The error envelope every non-2xx response carries (Coder's `codersdk.Response`). */
import { Arr, Obj, Opt, Str, type Static } from './wire.js';

export const ValidationError = Obj({ field: Str(), detail: Str() });
export type ValidationError = Static<typeof ValidationError>;

/** Open on purpose: the error handler is the only writer, and it may carry more in later versions. */
export const Response = Obj({ message: Str(), detail: Opt(Str()), validations: Opt(Arr(ValidationError)) }, { additionalProperties: true });
export type Response = Static<typeof Response>;
