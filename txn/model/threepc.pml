/*
 * threepc.pml -- Promela model of docplat's three-phase commit as
 * txn/PROTOCOL.md describes it: one coordinator C and N participants (N=2 by
 * default, -DN=3 for three), crash failures of every party at any point, a
 * coordinator that may restart from its durable log (rule 4), participant
 * timeouts with the termination protocol (ask the coordinator, then the
 * peers).  README.md beside this file explains the model and the results.
 *
 * Variants (spin -D...):
 *   (none)            PROTOCOL.md as written: spin finds agreement violations.
 *   -DFIXED           the three fixes below together (what check.sh verifies).
 *   -DFIX_TERMINATION participant rule 3: when the coordinator does not
 *                     answer, only the lowest-numbered live participant that
 *                     is still uncertain (the backup coordinator) decides;
 *                     the others wait.  It reads the peers' rows as before
 *                     and then brings every reachable peer to its decision
 *                     before it is final -- to commit: PreCommit each ready
 *                     peer, commit itself, DoCommit each; to abort: Abort
 *                     each, then itself.  If it crashes half-way, the next
 *                     one in line takes over from the rows it left.
 *   -DFIX_STATUS      coordinator rules 3 and 5: log `committing` once every
 *                     participant acknowledged PreCommit, before DoCommit;
 *                     answer `commit` only once it is logged, `pending` while
 *                     only `precommit` is.
 *   -DFIX_RECOVERY    coordinator rule 4: after a restart, wait out a grace
 *                     period longer than one termination run (so runs begun
 *                     while it was down are over), then from `precommit`
 *                     decide by the participants' rows: any committed ->
 *                     commit; any aborted -> abort; some precommitted ->
 *                     resend PreCommit, then commit; all reachable ready ->
 *                     abort; none reachable -> wait for one.  (The grace
 *                     period alone can be dropped with -DNOGRACE, to see
 *                     why it is needed.)
 *   -DN=3             three participants.
 *   -DNORECOVER       the coordinator is crash-stop (never restarts).
 *   -DMAXCRASH=k      at most k crashes in a run (default N+1: every party may
 *                     crash, each at most once).
 *   -DLIVENESS        add the LTL formula `termination` (pan -a -f).
 *   -DREPLY_AT_DECISION  answer the caller `committed` as soon as commit is
 *                     decided (docplat before issue 10), not once the
 *                     synchronous participant P1 acknowledged DoCommit:
 *                     spin shows the caller told committed while P1 has
 *                     not applied the change (READ-YOUR-WRITES fails).
 *
 * Timing (the synchronous-system assumption): message delays are bounded and
 * the participants' timeouts are much longer than the coordinator's vote/ack
 * timeouts and than any message delay.  So
 *   - a coordinator timeout fires exactly when the awaited participant has
 *     crashed: guard `crashed[i]` (a perfect failure detector);
 *   - a participant's deadline passes only while the coordinator is down (or
 *     has finished without a word for it: it restarted without a `started`
 *     record) and every message already sent to a live participant has been
 *     handled: guard `(cdown || cfinished) && QUIET`.  The termination run
 *     then goes step by step; the coordinator may restart and peers may run
 *     theirs in between.
 *
 * Properties (checked by check.sh):
 *   AGREEMENT    asserted at every decision: no party commits while another
 *                aborted, and no party changes its decision.  A
 *                participant decides when its row becomes committed/aborted;
 *                the coordinator decides abort when it logs `aborted` and
 *                commit when it starts sending DoCommit (PROTOCOL.md has no
 *                record there: `precommit` may still turn into abort by rule
 *                4, `committed` is logged only once every DoCommit is
 *                acknowledged).
 *   VALIDITY     asserted at every commit: every participant voted yes (so
 *                none voted no); asserted at every end state (proctype
 *                Final): all voted yes and nothing crashed => all committed.
 *   READ-YOUR-WRITES  asserted when the coordinator answers its caller
 *                `committed` (only a coordinator that never went down has a
 *                caller to answer): the synchronous participant P1 (docplat:
 *                documents, the one every reader reads) has committed.
 *   TERMINATION  at every end state (Final fires on `timeout`, when nothing
 *                else can move): every live participant that holds a row has
 *                decided, and the coordinator, unless it stays down for good,
 *                has logged an outcome and finished (FIX_RECOVERY: or it
 *                restarted after every participant crashed and waits for one
 *                to return -- 3PC's total-failure case); spin's invalid end
 *                state check; with -DLIVENESS the LTL formula <> ALLDONE under
 *                weak fairness.
 *
 * Lines `MSC: ...` print when a trail is replayed (spin -t): the events of a
 * counterexample.
 */

#ifndef N
#define N 2
#endif
#define C N                     /* the coordinator's index in dec[] */

#ifdef FIXED
#define FIX_TERMINATION
#define FIX_STATUS
#define FIX_RECOVERY
#endif

#ifndef MAXCRASH
#define MAXCRASH (N+1)
#endif
#ifndef MAXCCRASH
#define MAXCCRASH 1             /* coordinator crashes in a run */
#endif

/* participant rows (the barrier); NOANSWER: a party that did not answer */
mtype = { NONE, READY, PREC, COMMITTED, ABORTED, NOANSWER };
/* coordinator log */
mtype = { L_NONE, L_STARTED, L_PRECOMMIT, L_COMMITTING, L_ABORTED };
/* coordinator status answers (rule 5) */
mtype = { ST_COMMIT, ST_ABORT, ST_PENDING };
/* requests C -> P and answers P -> C */
mtype = { CanCommit, PreCommit, DoCommit, Abort, Yes, No, Ok, Refused, NoAnswer };

/* decisions */
#define UNDEC  0
#define COMMIT 1
#define ABORT  2

/* ---------------- global state ---------------- */
mtype row[N] = NONE;            /* participant rows (durable)                */
bool crashed[N];                /* participant crashed (crash-stop)          */
bool interm[N];                 /* participant is running rule 3             */
mtype clog = L_NONE;            /* coordinator log (durable)                 */
bool cdone;                     /* coordinator logged `committed`, or `done`
                                   after `aborted` (durable)                */
bool collecting;                /* coordinator collects votes (volatile)     */
bool cdown;                     /* coordinator is down                       */
bool cdead;                     /* ... and stays down for good               */
bool cfinished;                 /* coordinator finished its work             */
bool cblocked;                  /* coordinator waits for a participant back  */
byte ccrashes;                  /* coordinator crashes so far                */
byte ncrash;                    /* crashes so far, all parties               */
byte rnd;                       /* request round: the RPCs' ids              */

byte dec[N+1];                  /* decisions: participants, then C           */
byte ncommit, nabort;           /* parties that decided commit / abort       */
byte nyes;                      /* participants that voted yes               */
bool anyNo;                     /* some participant voted no                 */
bool heuristic;                 /* a DoCommit/Abort was refused              */
bool awaitreply;                /* C's caller waits for P1's DoCommit (volatile) */
bool replied;                   /* C answered its caller `committed`         */

mtype ans[N];                   /* each participant's answer ...             */
byte  ansr[N];                  /* ... and the round it answers              */
chan toP[N] = [4] of { mtype, byte };   /* requests from C, with their round */

#if N == 2
/* every message already sent to a live participant has been handled */
#define QUIET ((crashed[0] || len(toP[0]) == 0) && (crashed[1] || len(toP[1]) == 0))
/* no live participant is in a termination run */
#define NOTERM ((crashed[0] || !interm[0]) && (crashed[1] || !interm[1]))
#define ALLCRASHED (crashed[0] && crashed[1])
/* FIX_TERMINATION: the backup coordinator is the lowest-numbered live
   participant that is still uncertain (ready or precommitted) */
#define UNCERTAIN(j) (!crashed[j] && (row[j] == READY || row[j] == PREC))
#define BACKUP(i) (i == 0 || !UNCERTAIN(0))
#elif N == 3
#define QUIET ((crashed[0] || len(toP[0]) == 0) && (crashed[1] || len(toP[1]) == 0) && \
               (crashed[2] || len(toP[2]) == 0))
#define NOTERM ((crashed[0] || !interm[0]) && (crashed[1] || !interm[1]) && \
                (crashed[2] || !interm[2]))
#define ALLCRASHED (crashed[0] && crashed[1] && crashed[2])
#define UNCERTAIN(j) (!crashed[j] && (row[j] == READY || row[j] == PREC))
#define BACKUP(i) (i == 0 || (!UNCERTAIN(0) && (i == 1 || !UNCERTAIN(1))))
#else
#error "N must be 2 or 3"
#endif
#ifdef FIX_TERMINATION
#define MAYTERMINATE(i) BACKUP(i)
#else
#define MAYTERMINATE(i) true        /* as written: every participant runs rule 3 */
#endif

/* coordinator rule 5: the status it answers, from its log */
#ifdef FIX_STATUS
#define CSTATUS (clog == L_COMMITTING -> ST_COMMIT : \
                 ((clog == L_PRECOMMIT || (clog == L_STARTED && collecting)) -> ST_PENDING : ST_ABORT))
#else
#define CSTATUS ((clog == L_PRECOMMIT || clog == L_COMMITTING) -> ST_COMMIT : \
                 ((clog == L_STARTED && collecting) -> ST_PENDING : ST_ABORT))
#endif

/* a party decides: agreement and validity are checked on the spot */
inline decide(who, v) {
	if
	:: who == C && v == COMMIT -> printf("MSC: C DECIDES COMMIT\n")
	:: who == C && v == ABORT  -> printf("MSC: C DECIDES ABORT\n")
	:: who != C && v == COMMIT -> printf("MSC: P%d DECIDES COMMIT\n", who+1)
	:: who != C && v == ABORT  -> printf("MSC: P%d DECIDES ABORT\n", who+1)
	fi;
	if
	:: dec[who] == UNDEC ->
		dec[who] = v;
		if
		:: v == COMMIT -> ncommit++
		:: else -> nabort++
		fi
	:: else ->
		assert(dec[who] == v)                   /* AGREEMENT: nobody changes its mind */
	fi;
	assert(ncommit == 0 || nabort == 0);            /* AGREEMENT */
	assert(v != COMMIT || (nyes == N && !anyNo))    /* VALIDITY: commit => all voted yes */
}

/* ========================= participant (PROTOCOL.md) ========================= */
proctype Part(byte me) {
	mtype m, st, reply;
	byte r, k;
	mtype pa[N];                /* the peers' answers */
	bool anyC, anyA, anyP;
	byte intent;                /* FIX_TERMINATION: the decision being applied */

	{
end_wait:
	do
	/* rules 1 and 2: each message is handled in one local transaction */
	:: atomic {
		toP[me]?m,r ->
		if
		:: m == CanCommit ->
			if
			:: row[me] == ABORTED -> reply = No
			:: row[me] == READY || row[me] == PREC || row[me] == COMMITTED -> reply = Yes
			:: row[me] == NONE ->
				if
				:: row[me] = READY; nyes++; reply = Yes       /* reservation ok */
				:: row[me] = ABORTED; anyNo = true;            /* reservation failed */
				   decide(me, ABORT); reply = No
				fi
			fi
		:: m == PreCommit ->
			if
			:: row[me] == READY -> row[me] = PREC; reply = Ok
			:: row[me] == PREC || row[me] == COMMITTED -> reply = Ok
			:: else -> reply = Refused
			fi
		:: m == DoCommit ->
			if
			:: row[me] == READY || row[me] == PREC ->
				row[me] = COMMITTED; decide(me, COMMIT); reply = Ok
			:: row[me] == COMMITTED -> reply = Ok
			:: else -> reply = Refused
			fi
		:: m == Abort ->
			if
			:: row[me] == COMMITTED -> reply = Refused
			:: row[me] == ABORTED -> reply = Ok
			:: else -> row[me] = ABORTED; decide(me, ABORT); reply = Ok
			fi
		fi;
		printf("MSC: P%d: %e -> row %e, answers %e\n", me+1, m, row[me], reply);
		/* the answer: a crash between the durable write and the answer is,
		   for everybody else, the same as a crash before the message (the
		   crashed party's row cannot be read) and only adds a decision that
		   matches the coordinator's, so the two are one step */
		ans[me] = reply; ansr[me] = r; m = 0; r = 0; reply = 0
	   }

	/* rule 3: the deadline passed without a message */
	:: atomic {
		(row[me] == READY || row[me] == PREC) && (cdown || cfinished) && QUIET && MAYTERMINATE(me) ->
		interm[me] = true;
		printf("MSC: P%d: deadline passed in %e\n", me+1, row[me])
	   };
		/* ask the coordinator */
		if
		:: atomic { !cdown -> st = CSTATUS; printf("MSC: P%d: C answers %e\n", me+1, st) }
		:: atomic { cdown -> st = NOANSWER; printf("MSC: P%d: C does not answer\n", me+1) }
		fi;
		if
		:: atomic { st == ST_COMMIT -> row[me] = COMMITTED; decide(me, COMMIT); interm[me] = false; st = 0 }
		:: atomic { st == ST_ABORT -> row[me] = ABORTED; decide(me, ABORT); interm[me] = false; st = 0 }
		:: atomic { st == ST_PENDING -> interm[me] = false; st = 0 }   /* wait again */
		:: atomic { st == NOANSWER -> st = 0 };
			/* ask the other participants, one after the other */
			k = (me == 0 -> 1 : 0);
			do
			:: atomic {
				pa[k] = (crashed[k] -> NOANSWER : row[k]);
				printf("MSC: P%d: peer P%d answers %e\n", me+1, k+1, pa[k]);
				k++;
				if
				:: k == me -> k++
				:: else -> skip
				fi;
				if
				:: k >= N -> k = 0; break
				:: else -> skip
				fi
			   }
			od;
			atomic {
				anyC = false; anyA = false; anyP = (row[me] == PREC);
				k = 0;
				do
				:: k < N ->
					if
					:: k != me && pa[k] == COMMITTED -> anyC = true
					:: k != me && (pa[k] == ABORTED || pa[k] == NONE) -> anyA = true
					:: k != me && pa[k] == PREC -> anyP = true
					:: else -> skip
					fi;
					pa[k] = 0;
					k++
				:: else -> k = 0; break
				od;
#ifdef FIX_TERMINATION
				if
				:: row[me] == COMMITTED || row[me] == ABORTED ->
					/* the previous backup decided for it meanwhile */
					intent = UNDEC
				:: (row[me] == READY || row[me] == PREC) && anyC ->
					printf("MSC: P%d: a peer committed: commit all\n", me+1);
					intent = COMMIT
				:: (row[me] == READY || row[me] == PREC) && !anyC && anyA ->
					printf("MSC: P%d: a peer aborted (or has no row): abort all\n", me+1);
					intent = ABORT
				:: (row[me] == READY || row[me] == PREC) && !anyC && !anyA && anyP ->
					printf("MSC: P%d: some row precommitted: precommit all, then commit all\n", me+1);
					intent = COMMIT
				:: (row[me] == READY || row[me] == PREC) && !anyC && !anyA && !anyP ->
					printf("MSC: P%d: all reachable rows ready: abort all\n", me+1);
					intent = ABORT
				fi;
#else
				if
				:: anyC ->
					printf("MSC: P%d: a peer committed\n", me+1);
					row[me] = COMMITTED; decide(me, COMMIT)
				:: !anyC && anyA ->
					printf("MSC: P%d: a peer aborted (or has no row)\n", me+1);
					row[me] = ABORTED; decide(me, ABORT)
				:: !anyC && !anyA && anyP ->
					printf("MSC: P%d: some row precommitted\n", me+1);
					row[me] = COMMITTED; decide(me, COMMIT)
				:: !anyC && !anyA && !anyP ->
					printf("MSC: P%d: all reachable rows ready\n", me+1);
					row[me] = ABORTED; decide(me, ABORT)
				fi;
				interm[me] = false;
#endif
				anyC = false; anyA = false; anyP = false
			}
#ifdef FIX_TERMINATION
			;
			/* FIX_TERMINATION: this participant is the backup coordinator
			   (every lower-numbered participant has crashed or is no longer
			   uncertain); it brings every reachable peer to its decision, a
			   local transaction at each:
			   to commit, PreCommit each (ready -> precommitted), then commit
			   itself, then DoCommit each; to abort, Abort each, then itself.
			   If it crashes half-way, the next participant in line takes over. */
			if
			:: atomic { intent == UNDEC -> interm[me] = false }; goto next
			:: else -> skip
			fi;
			if
			:: intent == COMMIT ->
				k = (me == 0 -> 1 : 0);
				do
				:: atomic {
					if
					:: crashed[k] -> skip
					:: !crashed[k] && row[k] == READY -> row[k] = PREC;
					   printf("MSC: P%d: PreCommit P%d: ok\n", me+1, k+1)
					:: !crashed[k] && row[k] != READY -> skip
					fi;
					assert(crashed[k] || row[k] == PREC || row[k] == COMMITTED);
					k++;
					if :: k == me -> k++ :: else -> skip fi;
					if :: k >= N -> k = 0; break :: else -> skip fi
				   }
				od;
				atomic { row[me] = COMMITTED; decide(me, COMMIT) }
			:: intent == ABORT ->
				skip
			fi;
			k = (me == 0 -> 1 : 0);
			do
			:: atomic {
				if
				:: crashed[k] -> skip
				:: !crashed[k] && intent == COMMIT && (row[k] == READY || row[k] == PREC) ->
					row[k] = COMMITTED; decide(k, COMMIT);
					printf("MSC: P%d: DoCommit P%d: ok\n", me+1, k+1)
				:: !crashed[k] && intent == ABORT && row[k] != COMMITTED && row[k] != ABORTED ->
					row[k] = ABORTED; decide(k, ABORT);
					printf("MSC: P%d: Abort P%d: ok\n", me+1, k+1)
				:: else -> assert(row[k] == (intent == COMMIT -> COMMITTED : ABORTED))
				fi;
				k++;
				if :: k == me -> k++ :: else -> skip fi;
				if :: k >= N -> k = 0; break :: else -> skip fi
			   }
			od;
			atomic {
				if
				:: intent == ABORT -> row[me] = ABORTED; decide(me, ABORT)
				:: else -> skip
				fi;
				intent = UNDEC;
				interm[me] = false
			};
next:
			skip
#endif
		fi
	od
	} unless { crashed[me] }
}

/* ========================= coordinator (PROTOCOL.md) ========================= */

/* send request m to every participant, in any order (docplat sends them in
   parallel), one message a step: a crash may fall between two; a crashed
   participant's messages go nowhere.  FULL: the bits of every step. */
#define ROUNDDONE(FULL) \
	if \
	:: sent == FULL -> sent = 0; break \
	:: else -> skip \
	fi
#define SENDONE(m, j, FULL) \
	:: atomic { (sent & (1 << j)) == 0 -> \
		if \
		:: crashed[j] -> skip \
		:: else -> toP[j]!m,rnd; printf("MSC: C: %e -> P%d\n", m, j+1) \
		fi; \
		sent = sent | (1 << j); \
		ROUNDDONE(FULL) }
#if N == 2
#define SENDS(m, FULL) SENDONE(m, 0, FULL) SENDONE(m, 1, FULL)
#else
#define SENDS(m, FULL) SENDONE(m, 0, FULL) SENDONE(m, 1, FULL) SENDONE(m, 2, FULL)
#endif
#define SENDALL(m) do SENDS(m, (1 << N) - 1) od
/* rule 1: CanCommit to every participant while `started` is logged: the
   record is written at any point among the sends, before any decision */
#define CANCOMMIT_AND_LOG \
	do \
	SENDS(CanCommit, (1 << (N+1)) - 1) \
	:: atomic { (sent & (1 << N)) == 0 -> \
		clog = L_STARTED; printf("MSC: C: log started\n"); \
		sent = sent | (1 << N); \
		ROUNDDONE((1 << (N+1)) - 1) } \
	od

/* the answer of participant i to this round, or NoAnswer once it crashed
   (a coordinator timeout; "retrying until each acknowledges": a crashed
   participant never will) */
#define NEXTANSWER(BADCOND) \
	if \
	:: BADCOND -> bad = true \
	:: else -> skip \
	fi; \
	if \
	:: got == NoAnswer -> miss = true \
	:: else -> skip \
	fi; \
	got = 0; \
	i++; \
	if \
	:: i == N -> i = 0; break \
	:: else -> skip \
	fi

/* the caller is answered `committed` once the synchronous participant P1
   acknowledges DoCommit (PROTOCOL.md, "Answering the caller") */
#define REPLY \
	assert(row[0] == COMMITTED);  /* READ-YOUR-WRITES */ \
	replied = true; awaitreply = false; \
	printf("MSC: C: answers the caller: committed\n")
#ifdef REPLY_AT_DECISION
#define REPLY_ON_ACK skip
#else
#define REPLY_ON_ACK \
	if \
	:: awaitreply && i == 0 && got == Ok -> REPLY \
	:: else -> skip \
	fi
#endif

/* collect every participant's answer, in order; bad := some answer
   satisfies BADCOND */
#define COLLECT(BADCOND) \
	bad = false; \
	miss = false; \
	i = 0; \
	do \
	:: atomic { ansr[i] == rnd -> got = ans[i]; ans[i] = 0; ansr[i] = 0; \
	            printf("MSC: C: P%d answers %e\n", i+1, got); \
	            REPLY_ON_ACK; \
	            NEXTANSWER(BADCOND) } \
	:: atomic { crashed[i] && ansr[i] != rnd -> got = NoAnswer; \
	            printf("MSC: C: P%d does not answer (crashed)\n", i+1); \
	            NEXTANSWER(BADCOND) } \
	od

active proctype Coord() {
	byte i, sent;
	mtype got;
	bool bad, miss, anyC, anyA, anyP;
	byte nreach;

again:
	{
	if
	:: ccrashes > 0 ->
		printf("MSC: C: restarts, log %e\n", clog);
#if defined(FIX_RECOVERY) && !defined(NOGRACE)
		NOTERM;                 /* grace period: runs begun while it was down are over */
#endif
		goto recov
	:: else -> skip
	fi;

	/* rule 1 */
	atomic { collecting = true; rnd++ };
	CANCOMMIT_AND_LOG;

	/* rule 2: the votes; a vote that does not come: that participant crashed */
	COLLECT(got != Yes);
	if
	:: atomic { bad -> bad = false; miss = false; collecting = false; clog = L_ABORTED;
	            printf("MSC: C: log aborted\n"); decide(C, ABORT) };
	   goto abortphase
	:: atomic { !bad -> miss = false; collecting = false; clog = L_PRECOMMIT; rnd++;
	            printf("MSC: C: log precommit\n") }
	fi;
	SENDALL(PreCommit);

	/* rule 3: every participant acknowledges PreCommit */
	COLLECT(got != Ok);
	if
	:: atomic { bad -> bad = false; miss = false }; goto recov   /* rule 4: an acknowledgement that does not come */
	:: else -> skip
	fi;
commitdecide:
	/* every participant acknowledged PreCommit: DoCommit.  The coordinator's
	   commit outcome is counted here, when it first sends DoCommit. */
	atomic {
#ifdef FIX_STATUS
		clog = L_COMMITTING; printf("MSC: C: log committing\n");
#endif
		rnd++; printf("MSC: C: DoCommit round\n"); decide(C, COMMIT);
#ifdef REPLY_AT_DECISION
		if
		:: ccrashes == 0 && !replied -> REPLY
		:: else -> skip
		fi
#endif
	};
commitphase:
	/* only the request that ran the protocol from the start has a caller */
	awaitreply = (ccrashes == 0 && !replied);
	SENDALL(DoCommit);
	COLLECT(got == Refused);
	/* once every participant acknowledged: log `committed` (cdone); a crashed
	   one never will, and C goes on retrying it (not modelled further) */
	atomic { heuristic = heuristic || bad; bad = false;
	         if :: !miss -> cdone = true; printf("MSC: C: log committed\n") :: else -> skip fi;
	         miss = false };
	goto fin;

abortdecide:
	atomic { clog = L_ABORTED; printf("MSC: C: log aborted\n"); decide(C, ABORT) };
abortphase:
	rnd++;
	SENDALL(Abort);
	COLLECT(got == Refused);
	atomic { heuristic = heuristic || bad; bad = false;
	         if :: !miss -> cdone = true; printf("MSC: C: log done\n") :: else -> skip fi;
	         miss = false };
	goto fin;

	/* rule 4: recovery, after a restart or an acknowledgement that did not come */
recov:
	if
	:: cdone || clog == L_NONE -> goto fin
	:: !cdone && clog == L_STARTED -> goto abortdecide
	:: !cdone && clog == L_ABORTED -> goto abortphase
	:: !cdone && (clog == L_PRECOMMIT || clog == L_COMMITTING) -> skip
	fi;
#ifdef FIX_RECOVERY
	if
	:: clog == L_COMMITTING -> rnd++; goto commitphase   /* all had acknowledged PreCommit */
	:: clog == L_PRECOMMIT && ccrashes == 0 -> goto resend
	   /* an acknowledgement did not come but C was never down, so no
	      participant ran rule 3: resend PreCommit as written */
	:: clog == L_PRECOMMIT && ccrashes > 0 -> skip
	fi;
	atomic {
		anyC = false; anyA = false; anyP = false; nreach = 0;
		i = 0;
		do
		:: i < N ->
			if
			:: crashed[i] -> skip
			:: !crashed[i] && row[i] == COMMITTED -> anyC = true; nreach++
			:: !crashed[i] && (row[i] == ABORTED || row[i] == NONE) -> anyA = true; nreach++
			:: !crashed[i] && row[i] == PREC -> anyP = true; nreach++
			:: !crashed[i] && row[i] == READY -> nreach++
			fi;
			i++
		:: else -> i = 0; break
		od;
		printf("MSC: C: reads the rows: %d reachable; committed %d, aborted %d, precommitted %d\n",
		       nreach, anyC, anyA, anyP)
	}
	if
	:: atomic { nreach == 0 -> anyC = false; anyA = false; anyP = false }; goto blocked
	:: atomic { nreach > 0 && anyC -> nreach = 0; anyC = false; anyA = false; anyP = false };
	   goto commitdecide
	:: atomic { nreach > 0 && !anyC && anyA -> nreach = 0; anyA = false; anyP = false };
	   goto abortdecide
	:: atomic { nreach > 0 && !anyC && !anyA && !anyP -> nreach = 0 };   /* all reachable ready */
	   goto abortdecide
	:: atomic { nreach > 0 && !anyC && !anyA && anyP -> nreach = 0; anyP = false }
	fi;
resend:
#endif
	/* resend PreCommit, then DoCommit; a participant that answers it has
	   aborted makes the outcome abort */
	rnd++;
	SENDALL(PreCommit);
	COLLECT(got == Refused);
	if
	:: atomic { bad -> bad = false; miss = false }; goto abortdecide
	:: atomic { !bad -> miss = false }; goto commitdecide
	fi;

fin:
	cfinished = true;
	goto end_c;

blocked:
	/* FIX_RECOVERY, total failure: no participant answers and any of them
	   may have decided either way: wait until one comes back (in this
	   crash-stop model none does) */
	atomic { cblocked = true; printf("MSC: C: no participant answers: waits\n") };
end_blocked:
	(false)
	} unless { cdown };

	/* crashed: restart later from the durable log, or never */
	if
#ifndef NORECOVER
	:: atomic { cdown = false; collecting = false; awaitreply = false; i = 0; sent = 0; got = 0; bad = false; miss = false;
	            printf("MSC: C: RESTART\n") };
	   goto again
#endif
	:: cdead = true; printf("MSC: C: stays down for good\n")
	fi;
end_c:
	skip
}

/* ============= crashes: any party, at any point, each at most once ============= */
#define CRASHP(i) atomic { ncrash < MAXCRASH && !crashed[i] -> crashed[i] = true; ncrash++; \
                           printf("MSC: P%d: CRASH\n", i+1) }
active proctype Crasher() {
end_cr:
	do
	:: atomic {
		ncrash < MAXCRASH && ccrashes < MAXCCRASH && !cdown && !cfinished ->
		cdown = true; collecting = false; ccrashes++; ncrash++;
		printf("MSC: C: CRASH\n")
	   }
	:: CRASHP(0)
	:: CRASHP(1)
#if N == 3
	:: CRASHP(2)
#endif
	:: break
	od
}

init {
	byte i;
	atomic { for (i : 0 .. N-1) { run Part(i) } }
}

/* ====================== termination, at every end state ====================== */
#define PDONE(i) (crashed[i] || row[i] == NONE || dec[i] != UNDEC)
/* finished; or down for good; or (FIX_RECOVERY) back after every participant
   crashed, waiting for one to return */
#define CDONE (cdead || (cfinished && (clog == L_NONE || dec[C] != UNDEC)) || (cblocked && ALLCRASHED))
#if N == 2
#define ALLDONE (PDONE(0) && PDONE(1) && CDONE)
#define ALLCOMMIT (dec[0] == COMMIT && dec[1] == COMMIT && dec[C] == COMMIT)
#else
#define ALLDONE (PDONE(0) && PDONE(1) && PDONE(2) && CDONE)
#define ALLCOMMIT (dec[0] == COMMIT && dec[1] == COMMIT && dec[2] == COMMIT && dec[C] == COMMIT)
#endif

active proctype Final() {
	timeout ->                  /* nothing else can move: an end state */
	assert(ALLDONE);                                  /* TERMINATION */
	assert(!(ncrash == 0 && nyes == N) || ALLCOMMIT)  /* VALIDITY: all yes, no crash => all commit */
}

#ifdef LIVENESS
ltl termination { <> ALLDONE }
#endif
