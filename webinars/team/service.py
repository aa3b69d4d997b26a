"""Team rules: who is on a webinar's or series' team, invitations by email, roles, the audit log.

A webinar's team is its owner, the owners of its series (who run it like its owner), the roles
granted on the series (which cover all its webinars) and those granted on the webinar itself. Only
someone who may ADMINISTER the webinar or series changes its team; the views check that.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, delete, insert, select

from .. import audit, clock
from ..auth import service as accounts
from ..database import get_by_id, writing
from ..extensions import db
from ..models import AuditAction, AuditEntry, Event, Invitation, Series, TeamMember, User, series_owner
from ..permissions import ROLE_LABELS, Role
from ..rules import RuleError
from ..text import new_token

Target = Event | Series


@dataclass(frozen=True)
class Member:
    """One person on a team: their role, and whether it comes from the series (then it is changed on
    the series' team page, not the webinar's)."""

    user: User
    role: Role
    inherited: bool = False

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS[self.role])


def roles_offered(target: Target) -> list[Role]:
    """The roles an invitation or a change may give: a series may have several owners, a webinar has
    one (its owner, who created it)."""
    return (
        [Role.OWNER, Role.EDITOR, Role.VIEWER] if isinstance(target, Series) else [Role.EDITOR, Role.VIEWER]
    )


def _series_owners(series_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(series_owner, series_owner.c.user_id == User.id)
            .where(series_owner.c.series_id == series_id)
            .order_by(User.name, User.id)
        )
    )


def _granted(condition: ColumnElement[bool]) -> list[TeamMember]:
    return list(
        db.session.scalars(select(TeamMember).join(User).where(condition).order_by(User.name, User.id))
    )


def members(target: Target) -> list[Member]:
    """Everyone with a role on ``target``, owners first."""
    found: dict[int, Member] = {}

    def add(user: User, role: Role, inherited: bool) -> None:
        known = found.get(user.id)
        if known is None or _STRENGTH[role] > _STRENGTH[known.role]:
            found[user.id] = Member(user, role, inherited)

    if isinstance(target, Event):
        add(target.owner, Role.OWNER, False)
        if target.series_id is not None:
            for user in _series_owners(target.series_id):
                add(user, Role.OWNER, True)
            for row in _granted(TeamMember.series_id == target.series_id):
                add(row.user, row.role, True)
        for row in _granted(TeamMember.event_id == target.id):
            add(row.user, row.role, False)
    else:
        for user in _series_owners(target.id):
            add(user, Role.OWNER, False)
        for row in _granted(TeamMember.series_id == target.id):
            add(row.user, row.role, False)
    return sorted(found.values(), key=lambda m: (-_STRENGTH[m.role], m.user.name.casefold(), m.user.id))


_STRENGTH = {Role.OWNER: 3, Role.EDITOR: 2, Role.VIEWER: 1}


def _target_filter(target: Target) -> dict[str, int | None]:
    if isinstance(target, Event):
        return {"event_id": target.id, "series_id": None}
    return {"event_id": None, "series_id": target.id}


def pending(target: Target) -> list[Invitation]:
    """Invitations to ``target``'s team not yet accepted or revoked, newest first."""
    column = Invitation.event_id if isinstance(target, Event) else Invitation.series_id
    return list(
        db.session.scalars(
            select(Invitation)
            .where(column == target.id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
            .order_by(Invitation.sent_at.desc(), Invitation.id.desc())
        )
    )


def invitation_of(target: Target, invitation_id: int) -> Invitation | None:
    invitation = get_by_id(Invitation, invitation_id)
    if invitation is None:
        return None
    wanted = _target_filter(target)
    if (invitation.event_id, invitation.series_id) != (wanted["event_id"], wanted["series_id"]):
        return None
    return invitation


def _check_role(target: Target, role: Role) -> None:
    if role not in roles_offered(target):
        raise RuleError.on("role", str(_l("Choose one of the roles offered.")))


def _current_role(target: Target, user: User) -> Member | None:
    return next((member for member in members(target) if member.user.id == user.id), None)


def invite(target: Target, inviter: User, email: str, role: Role) -> Invitation:
    """Invite an address to ``target``'s team with ``role``: an email with a link that opens an account
    if the address has none, or asks its owner to sign in and accept. An open invitation of the same
    address is sent again with the new role instead of doubled. Commits."""
    address = accounts.address_or_error(email)
    _check_role(target, role)
    existing = accounts.account_for(address)
    if existing is not None:
        member = _current_role(target, existing)
        if member is not None and not member.inherited:
            raise RuleError.on(
                "email",
                str(
                    _l(
                        "%(name)s is already on the team (%(role)s).",
                        name=existing.name,
                        role=member.role_label,
                    )
                ),
            )
    with writing():
        column = Invitation.event_id if isinstance(target, Event) else Invitation.series_id
        invitation = db.session.execute(
            select(Invitation).where(
                column == target.id,
                Invitation.email == address,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
        ).scalar_one_or_none()
        if invitation is None:
            invitation = Invitation(email=address, nonce=new_token(), **_target_filter(target))
            db.session.add(invitation)
        invitation.role = role
        invitation.invited_by_id = inviter.id
        accounts.send_invitation(invitation)
        audit.record(target, AuditAction.TEAM_INVITED, f"{address} ({ROLE_LABELS[role]})", actor=inviter)
        db.session.commit()
    return invitation


def resend(target: Target, invitation: Invitation) -> None:
    """Send the invitation again with a new link (the previous one stops working). Commits."""
    with writing():
        if not invitation.is_open:
            raise RuleError.on("invitation", str(_l("This invitation was already accepted or revoked.")))
        accounts.send_invitation(invitation)
        audit.record(target, AuditAction.TEAM_INVITED, f"{invitation.email} ↻")
        db.session.commit()


def revoke(target: Target, invitation: Invitation) -> None:
    """The invitation's link stops working. Commits."""
    with writing():
        if invitation.is_open:
            invitation.revoked_at = clock.now()
            audit.record(target, AuditAction.TEAM_INVITATION_REVOKED, invitation.email)
        db.session.commit()


def _grant(target: Target, user: User, role: Role) -> None:
    """Give ``user`` exactly ``role`` on ``target`` (no commit)."""
    where = _target_filter(target)
    on_target = (
        TeamMember.event_id == target.id if isinstance(target, Event) else TeamMember.series_id == target.id
    )
    db.session.execute(delete(TeamMember).where(TeamMember.user_id == user.id, on_target))
    if isinstance(target, Series):
        db.session.execute(
            delete(series_owner).where(
                series_owner.c.series_id == target.id, series_owner.c.user_id == user.id
            )
        )
        if role == Role.OWNER:
            db.session.execute(insert(series_owner).values(series_id=target.id, user_id=user.id))
    if role != Role.OWNER:
        db.session.add(TeamMember(user_id=user.id, role=role, **where))
    db.session.flush()
    db.session.expire(target)


def _join(invitation: Invitation, user: User) -> Target:
    target: Target | None = invitation.event or invitation.series
    if target is None or invitation.role is None:
        raise RuleError.on("invitation", str(_l("This invitation is not for a team.")))
    member = _current_role(target, user)
    # Accepting never lowers a role someone already holds (a series owner invited as a viewer); the
    # webinar's own owner keeps being its owner.
    stronger = member is None or _STRENGTH[invitation.role] > _STRENGTH[member.role]
    owns_webinar = isinstance(target, Event) and target.owner_id == user.id
    if stronger and not owns_webinar:
        _grant(target, user, invitation.role)
    invitation.accepted_at = clock.now()
    audit.record(
        target,
        AuditAction.TEAM_JOINED,
        f"{user.name} <{user.email}> ({ROLE_LABELS[invitation.role]})",
        actor=user,
    )
    return target


def accept(invitation: Invitation, user: User) -> Target:
    """The signed-in ``user`` takes the role the invitation offers (it must be addressed to them). Commits."""
    if user.email != invitation.email:
        raise RuleError.on("invitation", str(_l("This invitation was sent to another address.")))
    with writing():
        target = _join(invitation, user)
        db.session.commit()
    return target


def accept_with_new_account(invitation: Invitation, name: str, password: str) -> User:
    """Open the account the invitation's address lacks, and give it the invitation's role (or, for an
    organizer invitation, just the account). Commits."""
    with writing():
        user = accounts.create_invited_account(invitation, name, password)
        if invitation.event_id is not None or invitation.series_id is not None:
            invitation.accepted_at = None  # _join spends it, with the audit entry
            _join(invitation, user)
        db.session.commit()
    return user


def change_role(target: Target, user: User, role: Role) -> None:
    """Give a team member another role. Commits."""
    _check_role(target, role)
    member = _current_role(target, user)
    if member is None or member.inherited or (isinstance(target, Event) and user.id == target.owner_id):
        raise RuleError.on("role", str(_l("This person's role is not set here.")))
    _keep_an_owner(target, user, role)
    with writing():
        _grant(target, user, role)
        audit.record(
            target,
            AuditAction.TEAM_ROLE_CHANGED,
            f"{user.name} <{user.email}>: {member.role_label} → {ROLE_LABELS[role]}",
        )
        db.session.commit()


def _keep_an_owner(target: Target, user: User, role: Role | None) -> None:
    if isinstance(target, Series) and role != Role.OWNER:
        owners = [owner.id for owner in _series_owners(target.id)]
        if owners == [user.id]:
            raise RuleError.on(
                "role", str(_l("A series keeps at least one owner: make someone else owner first."))
            )


def remove(target: Target, user: User) -> None:
    """Take ``user`` off the team. Commits."""
    member = _current_role(target, user)
    if member is None or member.inherited or (isinstance(target, Event) and user.id == target.owner_id):
        raise RuleError.on("role", str(_l("This person's role is not set here.")))
    _keep_an_owner(target, user, None)
    with writing():
        if isinstance(target, Event):
            db.session.execute(
                delete(TeamMember).where(TeamMember.user_id == user.id, TeamMember.event_id == target.id)
            )
        else:
            db.session.execute(
                delete(TeamMember).where(TeamMember.user_id == user.id, TeamMember.series_id == target.id)
            )
            db.session.execute(
                delete(series_owner).where(
                    series_owner.c.series_id == target.id, series_owner.c.user_id == user.id
                )
            )
        audit.record(target, AuditAction.TEAM_REMOVED, f"{user.name} <{user.email}> ({member.role_label})")
        db.session.commit()
        db.session.expire(target)


def member_account(user_id: int) -> User | None:
    return get_by_id(User, user_id)


def audit_log(target: Target) -> Select[AuditEntry]:
    """``target``'s audit log, newest first (a select() for a paginated page)."""
    return audit.entries(target)
