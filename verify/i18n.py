"""Every word the site shows, in Chinese (the default) and English."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["LANGS", "MESSAGES", "translator"]

LANGS = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    "site_name": ("职业技能等级证书查验", "Occupational Skill Level Certificate Verification"),
    "switch_lang": ("English", "中文"),
    "skip": ("跳到正文", "Skip to content"),
    "nav_home": ("首页", "Home"),
    "nav_query": ("证书查询", "Look up"),
    "nav_check": ("上传核验", "Check a PDF"),
    "nav_download": ("持证人下载", "Holder download"),
    "nav_institutions": ("评价机构", "Institutions"),
    "intro": (
        "扫描证书上的二维码、上传电子证书 PDF，或输入证书编号、姓名、证件号码中的任意两项，即可核验职业技能等级证书。",
        "Scan the QR code on a certificate, upload the electronic PDF, or enter any two of certificate number, "
        "name and ID number to verify an occupational skill level certificate.",
    ),
    "privacy_note": (
        "为保护持证人隐私，查询必须提供三项中的两项；结果中的姓名和证件号码部分隐藏。本站不保存上传的文件。",
        "To protect holders' privacy a query needs two of the three keys; names and ID numbers are shown masked. "
        "Uploaded files are never stored.",
    ),
    "number": ("证书编号", "Certificate No."),
    "name": ("姓名", "Name"),
    "id_number": ("证件号码", "ID No."),
    "id_type": ("证件类型", "ID type"),
    "occupation": ("职业（工种）", "Occupation (job)"),
    "level": ("职业技能等级", "Skill level"),
    "issue_date": ("发证日期", "Issue date"),
    "institution": ("评价机构", "Evaluation institution"),
    "status": ("状态", "Status"),
    "status_since": ("日期", "Since"),
    "reason": ("原因", "Reason"),
    "query_title": ("证书查询（三项填两项）", "Look up a certificate (two of three)"),
    "query_help": (
        "请填写证书编号、姓名、证件号码中的任意两项。",
        "Fill in any two of certificate number, name and ID number.",
    ),
    "query_submit": ("查询", "Look up"),
    "query_need_two": (
        "请至少填写两项：只凭一项无法查询，这是为了防止他人枚举持证人信息。",
        "Please fill in at least two fields: one alone cannot be looked up, so that nobody can enumerate holders.",
    ),
    "query_none": (
        "没有找到与所填信息一致的证书。请核对后重试，或联系发证机构。",
        "No certificate matches what you entered. Check it and try again, or ask the issuing institution.",
    ),
    "check_title": ("上传电子证书 PDF 核验", "Check an electronic certificate (PDF)"),
    "check_help": (
        "选择证书 PDF 文件（不超过 10 MB），或持证人的电子凭证（.vc.jwt）。文件只在内存中检查，不会保存。",
        "Choose the certificate PDF (at most 10 MB), or the holder's credential (.vc.jwt). It is checked in "
        "memory and never stored.",
    ),
    "check_submit": ("核验", "Check"),
    "check_file": ("证书 PDF 或电子凭证文件", "Certificate PDF or credential file"),
    "credential_detail_valid": (
        "电子凭证的签名有效（机构已备案的密钥），未被撤销，数据与登记一致，证书有效。",
        "The credential's signature is valid (the institution's filed key), it was not revoked, its data "
        "matches the register and the certificate is valid.",
    ),
    "credential_detail_invalid": (
        "此电子凭证未通过核验：签名无效或数据与登记不符，可能被改动或伪造。请看下面未通过的检查项。",
        "This credential failed verification: its signature or data is wrong, it may have been altered or "
        "forged. See the failed checks below.",
    ),
    "credential_detail_unknown": (
        "无法确认此电子凭证：签名有效，但在查询库中找不到对应的证书，或状态列表无法核对。",
        "This credential cannot be confirmed: its signature is valid, but no matching certificate is in the "
        "index, or the status lists could not be checked.",
    ),
    "check_results": ("各项检查", "Checks"),
    "check_col_check": ("检查项", "Check"),
    "check_col_outcome": ("结果", "Outcome"),
    "check_col_reason": ("说明", "Reason"),
    "outcome_pass": ("通过", "pass"),
    "outcome_fail": ("未通过", "fail"),
    "outcome_not_applicable": ("不适用", "not applicable"),
    "outcome_unknown": ("无法确认", "unknown"),
    "check_detail_valid": (
        "电子印章完好，文件内容与登记一致，证书有效。",
        "The seals are intact, the file matches the register and the certificate is valid.",
    ),
    "check_detail_invalid": (
        "此文件未通过核验：电子印章或文件内容有问题，可能被改动或伪造。请看下面未通过的检查项。",
        "This file failed verification: its seals or contents are wrong, it may have been altered or forged. "
        "See the failed checks below.",
    ),
    "check_detail_revoked": ("此证书已被发证机构撤销。", "The issuing institution has revoked this certificate."),
    "check_detail_replaced": (
        "此文件是旧版本：证书已补发或更正，请以新版本为准。",
        "This file is an old version: the certificate was reissued or corrected; the newer version counts.",
    ),
    "check_detail_suspended": (
        "此证书暂停查询，请联系发证机构。",
        "This certificate is suspended; ask the institution.",
    ),
    "check_detail_unknown": (
        "无法确认此文件：它不在查询库中，或印章缺少可离线核验的吊销信息。",
        "This file cannot be confirmed: it is not in the index, or its seals lack revocation data to check offline.",
    ),
    "registered_status": ("登记状态", "Register status"),
    "seal_kind_institution": ("评价机构印章", "Evaluation institution seal"),
    "seal_kind_issuing": ("发证机构印章", "Issuing body seal"),
    "seal_kind_competition": ("竞赛专用章", "Competition seal"),
    "inst_search_card": ("搜索机构", "Search institutions"),
    "signatures": ("电子印章（数字签名）", "Seals (digital signatures)"),
    "signer": ("签章人", "Signer"),
    "fingerprint": ("证书指纹 SHA-256", "Certificate fingerprint SHA-256"),
    "signing_time": ("签章时间", "Signed at"),
    "timestamp_time": ("时间戳", "Timestamp"),
    "landing_title": ("证书核验结果", "Certificate verification"),
    "landing_unknown": (
        "无法确认此二维码。链接可能不完整或已被改动：请直接扫描证书上的二维码，或使用“证书查询”。",
        "This QR link cannot be confirmed. It may be incomplete or altered: scan the code on the certificate "
        "again, or use the look-up.",
    ),
    "paper_title": ("如何核对手中的纸质证书", "How to check the paper certificate in your hands"),
    "paper_1": (
        "核对持证人本人：姓名、照片与本人及其身份证件一致。",
        "Check the person: the name and photo match the holder and their ID document.",
    ),
    "paper_2": (
        "核对证书编号、职业、等级和发证日期与上方结果一致。",
        "Check that the number, occupation, level and issue date match the result above.",
    ),
    "paper_3": (
        "核对印章：评价机构名称与机构目录中备案的印章一致。",
        "Check the seal: the institution's name matches the seal filed in the institution directory.",
    ),
    "paper_4": (
        "如有电子证书 PDF，可上传核验其电子印章。",
        "If you have the electronic PDF, upload it to check its digital seals.",
    ),
    "download_title": ("持证人下载电子证书", "Download your electronic certificate"),
    "download_help": (
        "输入证书编号、本人证件号码和发证机构通知中的下载码。下载码只有您本人持有。",
        "Enter the certificate number, your ID number and the download code from the institution's notice. "
        "Only you hold the code.",
    ),
    "download_code": ("下载码", "Download code"),
    "download_submit": ("下载", "Download"),
    "download_fail": (
        "证书编号、证件号码或下载码不正确。",
        "The certificate number, ID number or download code is not correct.",
    ),
    "download_need_all": ("请填写全部三项。", "Please fill in all three fields."),
    "download_revoked": ("该证书已撤销，不再提供下载。", "This certificate was revoked and is no longer served."),
    "download_none": (
        "该证书没有可下载的电子文件，请联系发证机构。",
        "This certificate has no electronic file to download; please ask the issuing institution.",
    ),
    "download_format": ("下载内容", "What to download"),
    "download_format_help": (
        "电子证书 PDF 带有电子印章；电子凭证（.vc.jwt）是可存入数字钱包、供他人在线核验的 W3C 可验证凭证。",
        "The PDF carries the digital seals; the credential (.vc.jwt) is a W3C verifiable credential for a "
        "digital wallet, which anyone can check.",
    ),
    "download_format_pdf": ("电子证书 PDF", "Certificate PDF"),
    "download_format_credential": ("电子凭证（.vc.jwt）", "Credential (.vc.jwt)"),
    "download_no_credential": (
        "该证书签发时尚未提供电子凭证，请下载电子证书 PDF，或联系发证机构。",
        "This certificate was issued before credentials were offered: download the PDF, or ask the institution.",
    ),
    "inst_title": ("评价机构目录", "Institution directory"),
    "inst_help": (
        "按机构名称（可只输部分，如“海淀 培训”）、机构代码、地区或职业搜索已备案的评价机构。",
        "Search filed evaluation institutions by (part of) name, code, district or city, or occupation.",
    ),
    "inst_search": ("搜索", "Search"),
    "inst_query": ("机构名称、代码、地区或职业", "Name, code, region or occupation"),
    "inst_none": ("没有找到匹配的机构。", "No institution matches."),
    "inst_code": ("机构代码", "Institution code"),
    "inst_region": ("地区", "Region"),
    "inst_filing": ("备案号", "Filing number"),
    "inst_filing_date": ("备案日期", "Filing date"),
    "inst_parent": ("上级单位", "Parent body"),
    "inst_issuing": ("发证机构", "Issuing body"),
    "inst_scope": ("备案评价范围", "Filed scope"),
    "inst_levels": ("等级", "Levels"),
    "inst_job": ("工种/职业方向", "Job / direction"),
    "inst_seals": ("备案印章", "Filed seals"),
    "inst_seal_activated": ("启用日期", "In use since"),
    "inst_signers": ("电子印章证书", "Seal signing certificates"),
    "inst_valid_to": ("有效期至", "Valid until"),
    "inst_retired": ("已停用", "Retired"),
    "inst_status_active": ("备案有效", "Filed, active"),
    "inst_status_cancelled": ("已注销", "Cancelled"),
    "inst_status_merged": ("已合并", "Merged"),
    "inst_merged_into": ("并入", "Merged into"),
    "inst_not_found": ("没有此机构代码。", "No institution has this code."),
    "inst_retired_codes": ("废置代码（不再分配）", "Retired codes (never reassigned)"),
    "error_title": ("出错了", "Something went wrong"),
    "too_many": ("请求过于频繁，请稍后再试。", "Too many requests: please try again later."),
    "retry_in": ("可在 {n} 秒后重试。", "You can try again in {n} seconds."),
    "not_found": ("页面不存在。", "This page does not exist."),
    "too_large": ("文件过大（上限 {n} MB）。", "The file is too large (limit {n} MB)."),
    "no_file": ("请选择一个 PDF 文件。", "Please choose a PDF file."),
    "unreadable": ("无法检查此文件：{reason}", "This file cannot be checked: {reason}"),
    "check_timeout": ("检查超时，请稍后再试。", "The check took too long; please try again later."),
    "bad_request": ("请求格式不正确。", "The request is malformed."),
    "snapshot": ("查询数据版本", "Index snapshot"),
    "footer": (
        "本站只读取发布的查询快照，不连接证书登记库；不记录个人信息。",
        "This site reads only a published index snapshot, never the certificate register, and logs no personal data.",
    ),
    "back": ("返回", "Back"),
    # the upload check in groups (verify.present)
    "group_unchanged_pass": ("文件未被改动", "The document is unchanged"),
    "group_unchanged_fail": (
        "文件已被改动，或内容与登记不符",
        "The document was changed or does not match the register",
    ),
    "group_unchanged_unknown": ("无法确认文件是否被改动", "Cannot confirm the document is unchanged"),
    "group_unchanged_not_applicable": ("未检查文件是否被改动", "Not checked whether the document was changed"),
    "group_sealed_pass": ("由备案机构的印章密钥签章", "Sealed with a filed institution's key"),
    "group_sealed_fail": ("不是备案机构的有效印章", "Not validly sealed by a filed institution"),
    "group_sealed_unknown": ("无法确认印章", "Cannot confirm the seals"),
    "group_sealed_not_applicable": ("未检查印章", "Seals not checked"),
    "group_current_pass": ("登记簿显示证书有效", "The register says it is current"),
    "group_current_fail": ("登记簿显示证书不是现行有效的", "The register says it is not current"),
    "group_current_unknown": ("无法在登记簿中确认", "Cannot confirm it in the register"),
    "group_current_not_applicable": ("未查询登记簿", "The register was not consulted"),
    "group_help_unchanged": (
        "签章后内容没有任何改动，证书数据与登记一致。",
        "Nothing was changed after sealing, and the certificate's data matches the register.",
    ),
    "group_help_sealed": (
        "印章证书可追溯到信任的根证书、未被吊销，且是该机构备案的印章密钥；职业和等级在备案范围内。",
        "The seal certificate chains to a trusted root, was not revoked, and is a seal key the institution "
        "filed; the occupation and level are within its filed scope.",
    ),
    "group_help_sealed_credential": (
        "签名可用该机构备案的二维码与电子凭证密钥（ECDSA P-256）核验；职业和等级在备案范围内。",
        "The signature verifies with the QR and credential key (ECDSA P-256) the institution filed; the "
        "occupation and level are within its filed scope.",
    ),
    "group_help_current": (
        "证书在登记簿中，未被撤销、暂停或取代。",
        "The certificate is in the register and was not revoked, suspended or replaced.",
    ),
    "banner_failed": ("未通过：{groups}", "Failed: {groups}"),
    "banner_unknown": ("无法确认：{groups}", "Not confirmed: {groups}"),
    "list_sep": ("；", "; "),
    "colon": ("：", ": "),
    "seals_panel": ("电子印章", "Seals"),
    "sig_pass": ("印章有效", "valid seal"),
    "sig_fail": ("印章无效", "invalid seal"),
    "sig_unknown": ("无法确认", "not confirmed"),
    "sig_at_timestamp": ("时间戳", "timestamp"),
    "sig_at_claimed": ("签章人自报时间", "time claimed by the signer"),
    "details": ("技术细节：各项检查（供技术人员核对）", "Technical details: every check (for technical staff)"),
    "beijing_time": ("北京时间", "Beijing time"),
    "checked_at": ("查验时间", "Checked at"),
    "print_hint": (
        "如需留存，请使用浏览器的“打印”功能打印本页或另存为 PDF。",
        "To keep this result, print the page or save it as PDF with your browser's Print command.",
    ),
    "operator": ("本站运营单位", "Site operator"),
    "operator_contact": ("联系方式", "Contact"),
    "operator_address": ("地址", "Address"),
    "photo_alt": ("持证人照片（来自登记）", "The holder's photo (from the register)"),
    "photo_help": (
        "照片只在扫描纸质证书二维码时显示，请与持证人本人核对。",
        "The photo is shown only to those who scan the paper's QR code: compare it with the holder.",
    ),
    "landing_replaced": (
        "此二维码所在的纸质证书已于 {on} 补发（换发新证），旧证书不再有效。请向持证人索取现行证书并扫描其上的二维码。",
        "The paper certificate with this QR code was replaced on {on}: it was reissued (补发) and the old paper "
        "no longer counts — ask for the current certificate and scan its QR code.",
    ),
    "check_replaced_how": (
        "此文件是旧版本：证书已于 {on} {how}，请以新版本为准。",
        "This file is an old version: the certificate was replaced on {on} by {how}; the newer version counts.",
    ),
    "how_reissue": ("补发", "a reissue (补发)"),
    "how_correct": ("更正", "a correction (更正)"),
    "query_count": ("找到 {n} 张证书", "{n} certificates found"),
    # the offline check of the QR code's signed data (verify/static/offline.js shows these)
    "offline_title": ("离线核验：二维码中的签名数据", "Offline check: the signed data in the QR code"),
    "offline_checking": ("正在核验二维码中的签名数据……", "Checking the signed data in the QR code…"),
    "offline_authentic_word": ("信息真实", "Authentic"),
    "offline_authentic": (
        "这张证书上的信息是真实的：由机构 {inst} 的已备案密钥签名。",
        "The data on this paper is authentic: signed by institution {inst}'s filed key.",
    ),
    "offline_not_authentic_word": ("不是真实的", "NOT authentic"),
    "offline_not_authentic": (
        "二维码中的签名数据未通过核验：数据被改动，或不是已备案的机构签发。请勿相信这张证书上的信息。",
        "The signed data in this QR code failed the check: it was altered, or not issued by a filed "
        "institution. Do not trust the data on this paper.",
    ),
    "offline_unknown_word": ("无法离线核验", "Cannot check offline"),
    "offline_reason": ("原因", "Reason"),
    "offline_unreadable": ("二维码中的签名数据无法读取。", "The signed data in the QR code cannot be read."),
    "offline_bad_signature": ("签名无效。", "The signature is invalid."),
    "offline_key_unknown": (
        "签名密钥 {kid} 不在已备案的密钥中。",
        "The signing key {kid} is not among the filed keys.",
    ),
    "offline_key_foreign": (
        "签名密钥属于机构 {owner}，不是证书上的机构 {inst}。",
        "The signing key belongs to institution {owner}, not to {inst} named on the certificate.",
    ),
    "offline_number_mismatch": (
        "网址中的证书编号与签名数据中的不一致。",
        "The certificate number in the address differs from the signed one.",
    ),
    "offline_no_keys": (
        "没有可用的密钥列表：请在有网络时打开一次本站。",
        "No key list is available: open this site once while online.",
    ),
    "offline_bad_key_list": (
        "密钥列表的发布者签名无效。",
        "The key list's publisher signature is invalid.",
    ),
    "offline_no_crypto": (
        "此浏览器不支持所需的加密功能（WebCrypto Ed25519、ECDSA P-256）。",
        "This browser lacks the cryptography needed (WebCrypto Ed25519, ECDSA P-256).",
    ),
    "offline_paper_shows": ("纸质证书上应当印有", "What the paper should show"),
    "offline_checked": (
        "已离线核验：签名数据由该机构已备案的密钥签名，密钥列表的发布者签名有效。",
        "Checked offline: the data is signed with the institution's filed key, and the key list's publisher "
        "signature is valid.",
    ),
    "offline_network": (
        "是否已被撤销需要联网查询；密钥列表日期 {date}。",
        "Whether it was revoked since the key list's date ({date}) needs the network.",
    ),
    "offline_shell": (
        "现在无法连接本站：下面只有离线核验的结果，证书的登记状态需要联网查询。",
        "The site cannot be reached now: below is only the offline check; the register status needs the network.",
    ),
    "offline_inst_status": (
        "注意：密钥列表显示该机构的备案状态为 {status}。",
        "Note: the key list gives the institution's filing as {status}.",
    ),
    "offline_proof_number": ("证明编号", "Proof No."),
    "offline_version": ("版本", "Version"),
}


def translator(lang: str) -> Callable[..., str]:
    """``t("key", n=3)``: the message in ``lang`` with ``{n}`` filled in."""
    i = 1 if lang == "en" else 0

    def t(key: str, **values: object) -> str:
        text = MESSAGES[key][i]
        return text.format(**values) if values else text

    return t
