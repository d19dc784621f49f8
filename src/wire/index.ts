/**
 * kook-rtp/wire: the pure wire formats (RTP, RTCP, Opus TOC, NTP, Ogg, FLV, pcap, SDP): bytes in, values out, no I/O.
 *
 * This file is the one list of what the folder exports (`kook-rtp`, the bots' entry, does not repeat it), with
 * `KookRtpError` so that code importing only this part can match on error codes. Named exports only.
 */

export { KookRtpError, isKookRtpError } from '../errors.js';
export type { ErrorCode } from '../errors.js';

export {
  RTP_VERSION,
  RTP_HEADER_SIZE,
  RTP_MAX_CSRCS,
  RTP_ONE_BYTE_EXTENSION_PROFILE,
  RTP_TWO_BYTE_EXTENSION_PROFILE,
  rtpPacketSize,
  encodeRtpPacketInto,
  encodeRtpPacket,
  decodeRtpPacket,
  writeRtpHeader,
  decodeRtpExtensionElements,
  isRfc8285Profile,
} from './rtp/packet.js';
export type { RtpPacket, RtpHeaderExtension, RtpExtensionElement } from './rtp/packet.js';
export { seqAdd, seqDiff, tsAdd, tsDiff, randomSsrc, RtpSequencer, SequenceExtender } from './rtp/sequencer.js';
export {
  parseOpusToc,
  opusPacketSamples,
  parseOpusFrames,
  OPUS_SILENCE_FRAME,
  OPUS_MAX_PACKET_SAMPLES,
  OPUS_MAX_FRAME_BYTES,
} from './opus/toc.js';
export type { OpusToc, OpusPacketFrames } from './opus/toc.js';
export { isRtcp, classifyPacket } from './demux.js';
export { NTP_UNIX_EPOCH_OFFSET, unixMsToNtp, ntpToUnixMs, ntpMiddle32, roundTripTimeMs, dlsrFromMs } from './ntp.js';
export { RTCP_SR, RTCP_RR, RTCP_SDES, RTCP_BYE, RTCP_APP, decodeRtcpHeader, encodeRtcpHeaderInto } from './rtcp/header.js';
export type { RtcpHeader } from './rtcp/header.js';
export { encodeReportBlock, decodeReportBlock } from './rtcp/reportBlock.js';
export type { ReportBlock } from './rtcp/reportBlock.js';
export { reportBlockPlausibility, DEFAULT_MAX_RTT_MS, DEFAULT_MAX_JITTER_MS } from './rtcp/plausibility.js';
export type { ReportPlausibility, ReportPlausibilityContext } from './rtcp/plausibility.js';
export { senderReportSize, encodeSenderReportInto, encodeSenderReport, decodeSenderReport } from './rtcp/senderReport.js';
export type { SenderReport } from './rtcp/senderReport.js';
export {
  receiverReportSize,
  encodeReceiverReportInto,
  encodeReceiverReport,
  decodeReceiverReport,
} from './rtcp/receiverReport.js';
export type { ReceiverReport } from './rtcp/receiverReport.js';
export {
  SDES_CNAME,
  SDES_NAME,
  SDES_EMAIL,
  SDES_PHONE,
  SDES_LOC,
  SDES_TOOL,
  SDES_NOTE,
  SDES_PRIV,
  sourceDescriptionSize,
  encodeSourceDescriptionInto,
  encodeSourceDescription,
  decodeSourceDescription,
  findCname,
} from './rtcp/sdes.js';
export type { SdesItem, SdesChunk, SourceDescription } from './rtcp/sdes.js';
export { goodbyeSize, encodeGoodbyeInto, encodeGoodbye, decodeGoodbye } from './rtcp/bye.js';
export type { Goodbye } from './rtcp/bye.js';
export {
  applicationDefinedSize,
  encodeApplicationDefinedInto,
  encodeApplicationDefined,
  decodeApplicationDefined,
} from './rtcp/app.js';
export type { ApplicationDefined } from './rtcp/app.js';
export { encodeCompound, decodeCompound, validateCompound, hasCname } from './rtcp/compound.js';
export type { RtcpPacket, DecodeCompoundOptions, EncodeCompoundOptions, CompoundIssue } from './rtcp/compound.js';
export { ReceiverStatistics } from './rtcp/receiverStatistics.js';
export type { ReceiverStatisticsOptions } from './rtcp/receiverStatistics.js';
export { encodePcapFileHeader, encodePcapRecord, encodePcap, decodePcap, LINKTYPE_ETHERNET } from './pcap/pcap.js';
export type { PcapEndpoint, PcapUdpRecord, PcapRecordOptions, PcapFile } from './pcap/pcap.js';
export { OggOpusWriter } from './ogg/opusWriter.js';
export type { OggOpusWriterOptions } from './ogg/opusWriter.js';
export { OggDemuxer } from './ogg/demuxer.js';
export type { OggPacket } from './ogg/demuxer.js';
export { decodeOggPage, encodeOggPage } from './ogg/page.js';
export type { OggPage } from './ogg/page.js';
export { decodeOpusHead, encodeOpusHead } from './ogg/opusHead.js';
export type { OpusHead } from './ogg/opusHead.js';
export { decodeOpusTags, encodeOpusTags } from './ogg/opusTags.js';
export type { VorbisComments } from './ogg/vorbisComment.js';
export { FlvReader, decodeFlv } from './flv/reader.js';
export { encodeFlvHeader, decodeFlvHeader } from './flv/header.js';
export type { FlvHeader } from './flv/header.js';
export { encodeFlvTag, decodeFlvTag, FlvTagType } from './flv/tag.js';
export type { FlvTag } from './flv/tag.js';
export { buildOpusSdp } from './sdp.js';
export type { OpusSdpOptions } from './sdp.js';
