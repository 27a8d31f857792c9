/** The error envelope every non-2xx response carries (Coder's `codersdk.Response`). */
export interface ValidationError {
  field: string;
  detail: string;
}

export interface Response {
  message: string;
  detail?: string;
  validations?: ValidationError[];
}
