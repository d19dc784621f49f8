/**
 * The error subclass every service client throws: the stable `code` plus the provider's own fields.
 * Never carries request bodies, so access keys, tokens and signatures cannot leak through it.
 */
import { KookRtpError, type ErrorCode } from '../errors.js';

/** Which service an error or event came from. */
export type ServiceProvider = 'shumei' | 'tupu' | 'anyrtc';

/** Fields a {@link ServiceError} may carry. */
export interface ServiceErrorFields {
  /** The service's own result code (Shumei 1902, anyRTC 281, Tupu non-zero `code`). */
  readonly apiCode?: number;
  /** HTTP status when the failure was at the HTTP level. */
  readonly httpStatus?: number;
  /** The service's request id, when it returned one. */
  readonly requestId?: string;
  /** Shumei duplicate push (detail.errorCode 1001): the id of the stream already under review, to close it. */
  readonly dupRequestId?: string;
  /** The request field that failed validation. */
  readonly field?: string;
  /** The underlying error. */
  readonly cause?: unknown;
}

/** A service call failed: match on `code`, read `provider`, `apiCode`, `requestId` and friends. */
export class ServiceError extends KookRtpError {
  /** The service. */
  readonly provider: ServiceProvider;
  /** The service's own result code, if any. */
  readonly apiCode: number | undefined;
  /** HTTP status, if the failure was at the HTTP level. */
  readonly httpStatus: number | undefined;
  /** The service's request id, if any. */
  readonly requestId: string | undefined;
  /** Shumei duplicate push: the stream already under review. */
  readonly dupRequestId: string | undefined;
  /** The request field that failed validation, if any. */
  readonly field: string | undefined;

  constructor(code: ErrorCode, provider: ServiceProvider, message: string, fields: ServiceErrorFields = {}) {
    super(code, `${provider}: ${message}`, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'ServiceError';
    this.provider = provider;
    this.apiCode = fields.apiCode;
    this.httpStatus = fields.httpStatus;
    this.requestId = fields.requestId;
    this.dupRequestId = fields.dupRequestId;
    this.field = fields.field;
  }
}
