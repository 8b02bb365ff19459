/** An error answered in OpenAI's shape: { error: { message, type, param, code } }. */
export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public type = 'invalid_request_error',
    public code: string | null = null,
    public param: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  body() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new ApiError(400, message, 'invalid_request_error', code, param);
export const notFound = (message: string, param: string | null = null) =>
  new ApiError(404, message, 'invalid_request_error', 'not_found', param);
